//! Fuzz target `selector_parse`: see `svcroute_fuzz::checks::selector_parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svcroute_fuzz::checks::selector_parse(data));
