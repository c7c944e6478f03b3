//! Arbitrary bytes through the streaming segment reader and the segment split / write.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    umgate_fuzz::lex(data);
});
