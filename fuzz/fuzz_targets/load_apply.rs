//! Fuzz target `load_apply`: see `svcroute_fuzz::checks::load_apply`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svcroute_fuzz::checks::load_apply(data));
