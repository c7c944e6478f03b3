//! The fuzzers' findings, kept: every file of `fuzz/regressions/<target>/` goes through the same
//! checks as the cargo-fuzz target of that name (`fuzz/src/lib.rs`, included below), so they run
//! in `cargo test` without cargo-fuzz or a nightly toolchain. Inputs too big to keep in the
//! repository (a 20 MB element, 100 000 HL levels) are built here.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn regression_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A hostile input must be handled in (about) linear time: generous bounds, debug build.
fn timed<T>(what: &str, limit: Duration, run: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = run();
    let elapsed = start.elapsed();
    assert!(elapsed < limit, "{what} took {elapsed:?} (limit {limit:?})");
    result
}

const GS: &str = "GS*HI*SUBMITTER*RECEIVER*20240101*1200*1*X*005010X217~";
const ISA: &str =
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*1*P*:~";

#[test]
fn validate_regressions() {
    let files = regression_files("validate");
    assert!(!files.is_empty());
    for path in files {
        let data = read(&path);
        let outcome = timed(&path.display().to_string(), Duration::from_secs(20), || harness::validate(&data));
        // Each kept crash wrote an acknowledgment that did not read back: it must now.
        let crash = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("crash-"));
        if crash {
            assert!(outcome.acknowledgments >= 1, "{}: no acknowledgment", path.display());
        }
        // Anything that is not empty and not only filler yields at least one report.
        if data.iter().any(|b| !b.is_ascii_whitespace()) {
            assert!(outcome.reports >= 1, "{}: no report", path.display());
        }
    }
}

#[test]
fn lexer_regressions() {
    // The lexer target runs over both directories: every validate input is a lexer input too.
    for target in ["lexer", "validate"] {
        for path in regression_files(target) {
            let data = read(&path);
            timed(&path.display().to_string(), Duration::from_secs(20), || harness::lex(&data));
        }
    }
}

#[test]
fn a_20_megabyte_element_is_refused_not_buffered() {
    let mut data = format!("{ISA}{GS}ST*278*0001*005010X217~BHT*0007*13*").into_bytes();
    data.extend(std::iter::repeat_n(b'A', 20 * 1024 * 1024));
    data.extend_from_slice(b"~SE*3*0001~GE*1*1~IEA*1*000000001~");
    let outcome = timed("20 MB element", Duration::from_secs(60), || harness::validate(&data));
    assert!(outcome.read_error.is_some_and(|e| e.contains("longer than")), "the segment limit did not apply");
    assert!(outcome.reports >= 1);
}

#[test]
fn a_hundred_thousand_nested_hl_levels_in_linear_time() {
    let mut body = String::from("ST*278*0001*005010X217~BHT*0007*13*1*20240101*1200~HL*1**20*1~");
    let levels = 100_000;
    for id in 2..=levels {
        // Each level claims the previous one as its parent: as deep as the text can say.
        body.push_str(&format!("HL*{id}*{}*22*1~", id - 1));
    }
    let data = format!("{ISA}{GS}{body}SE*{}*0001~GE*1*1~IEA*1*000000001~", levels + 3);
    let outcome = timed("100 000 HL levels", Duration::from_secs(60), || harness::validate(data.as_bytes()));
    assert_eq!(outcome.reports, 1);
    assert_eq!(outcome.acknowledgments, 2, "a 999 and the requested TA1");
}

#[test]
fn a_hundred_thousand_sibling_hl_levels_in_linear_time() {
    let mut body = String::from("ST*278*0001*005010X217~BHT*0007*13*1*20240101*1200~HL*1**20*1~HL*2*1*21*1~");
    let levels = 100_000;
    for id in 3..=levels {
        body.push_str(&format!("HL*{id}*2*22*0~"));
    }
    let data = format!("{ISA}{GS}{body}SE*{}*0001~GE*1*1~IEA*1*000000001~", levels + 3);
    let outcome = timed("100 000 sibling HL levels", Duration::from_secs(60), || harness::validate(data.as_bytes()));
    assert_eq!(outcome.reports, 1);
}

#[test]
fn a_megabyte_of_nul_bytes() {
    let data = vec![0u8; 1024 * 1024];
    let outcome = timed("1 MB of NUL", Duration::from_secs(20), || harness::validate(&data));
    assert_eq!(outcome.reports, 1, "one 'not X12' report");
    harness::lex(&data);
}

#[test]
fn many_interchanges_in_one_file() {
    let one = format!("{ISA}TA1*000000001*240101*1200*A*000~IEA*0*000000001~");
    let data = one.repeat(20_000);
    let outcome = timed("20 000 interchanges", Duration::from_secs(60), || harness::validate(data.as_bytes()));
    assert_eq!(outcome.reports, 20_000);
}
