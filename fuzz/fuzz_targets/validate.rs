//! Arbitrary bytes through the validator, the 999 and TA1 writers, and the validator again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    umgate_fuzz::validate(data);
});
