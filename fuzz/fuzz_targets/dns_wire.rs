//! Fuzz target `dns_wire`: see `svcroute_fuzz::checks::dns_wire`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svcroute_fuzz::checks::dns_wire(data));
