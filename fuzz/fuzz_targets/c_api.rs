//! Fuzz target `c_api`: see `svcroute_fuzz::checks::c_api`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svcroute_fuzz::checks::c_api(data));
