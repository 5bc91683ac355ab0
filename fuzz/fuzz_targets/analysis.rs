//! Fuzz target `analysis`: see `exercise::analysis`.
#![no_main]

#[allow(dead_code)]
#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::analysis(data));
