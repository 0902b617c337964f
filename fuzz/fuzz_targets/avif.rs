#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pixfront_fuzz::avif(data));
