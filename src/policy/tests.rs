//! Loader, span and lookup tests on small in-memory configurations and on the sample one.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

fn sample() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml");
    match Policy::load(&path) {
        Ok(policy) => policy,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_sample_configuration_loads() {
    let policy = sample();
    let summary = policy.summary();
    assert_eq!(summary.plans, 5);
    assert_eq!(summary.files.len(), 6);
}
