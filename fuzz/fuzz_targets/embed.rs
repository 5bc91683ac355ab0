//! Fuzz target `embed`: see `exercise::embed`.
#![no_main]

#[allow(dead_code)]
#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::embed(data));
