//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use umgate::grammar::GuideSet;
use umgate::validation::{InterchangeReport, Observer, validate_stream};

/// The shared corpus of public X12 files, beside the repository (never copied into it).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Every X12 file of the corpus (README excluded), sorted, as paths relative to the corpus.
pub fn corpus_files() -> Vec<String> {
    let mut files = Vec::new();
    let root = corpus_dir();
    for kind in std::fs::read_dir(&root).expect("the shared corpus is at ../shared/corpus") {
        let kind = kind.expect("corpus entry").path();
        if !kind.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&kind).expect("corpus kind dir") {
            let path = file.expect("corpus file").path();
            files.push(path.strip_prefix(&root).expect("under corpus").display().to_string());
        }
    }
    files.sort();
    files
}

struct Collect(Vec<InterchangeReport>);

impl Observer for Collect {
    fn interchange_end(&mut self, report: InterchangeReport) {
        self.0.push(report);
    }
}

/// Validates bytes with the built-in guides.
pub fn validate_bytes(bytes: &[u8]) -> Vec<InterchangeReport> {
    let guides = GuideSet::builtin().expect("built-in guides compile");
    let mut collect = Collect(Vec::new());
    validate_stream(bytes, "input", guides, &mut collect).expect("in-memory input reads");
    collect.0
}
