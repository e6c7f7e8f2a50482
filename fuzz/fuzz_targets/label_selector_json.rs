//! Fuzz target `label_selector_json`: see `svcroute_fuzz::checks::label_selector_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svcroute_fuzz::checks::label_selector_json(data));
