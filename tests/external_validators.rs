//! External check of the acknowledgments umgate sends, by a validator nobody on this project
//! wrote: pyx12 (pinned in `.ci/validators/requirements.txt`, installed by
//! `.ci/validators/setup.sh` into `.venv-validators/`).
//!
//! The real binary writes the 999 and TA1 interchanges it would send for every file of
//! `../shared/corpus/` and the X12 files of `samples/`; `tests/validators/pyx12_check.py` runs
//! pyx12's own validation (`x12n_document` and its error tree) on each, and every one must pass.
//! Corrupted copies (wrong SE01, bad IK5 code, AK9 counts, no AK1, bad TA104) must fail, so the
//! check cannot pass vacuously.
//!
//! What pyx12 can and cannot judge:
//! * 999: against its own 005010X231A1 map (segments, loops, usages, code values) and its reader's
//!   envelope checks (ISA/IEA, GS/GE, ST/SE control numbers and counts). It does not compare AK9's
//!   counts with the AK2 loops; the driver adds that one check, labelled "cross-check (not pyx12)".
//! * TA1: there is no TA1 guide map in pyx12; a TA1 interchange (ISA, TA1, IEA) is walked with its
//!   envelope map x12.control.00501.xml, which defines the TA1 segment (usages, TA104/TA105 codes,
//!   DT/TM formats). That map wrongly requires a functional group in every interchange; the driver
//!   waives that single error for an interchange holding a TA1 and no group (see the driver).
//!
//! Without `UMGATE_VALIDATORS_PYTHON` (or with a python that cannot import pyx12) the test is
//! skipped loudly, unless `UMGATE_REQUIRE_VALIDATORS=1` (as `.ci/run` sets), when it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/validators/pyx12_check.py");

/// The python that has pyx12, or `None` when the test is to be skipped.
fn validators_python() -> Option<PathBuf> {
    let required = std::env::var("UMGATE_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    let problem = match std::env::var_os("UMGATE_VALIDATORS_PYTHON").filter(|v| !v.is_empty()) {
        None => "UMGATE_VALIDATORS_PYTHON is not set".to_owned(),
        Some(python) => {
            let python = PathBuf::from(python);
            match Command::new(&python).args(["-c", "import pyx12.x12n_document"]).output() {
                Ok(out) if out.status.success() => return Some(python),
                Ok(out) => {
                    format!("{} cannot import pyx12: {}", python.display(), String::from_utf8_lossy(&out.stderr).trim())
                }
                Err(error) => format!("cannot run {}: {error}", python.display()),
            }
        }
    };
    assert!(
        !required,
        "UMGATE_REQUIRE_VALIDATORS=1 but the external validators cannot run: {problem}; run .ci/validators/setup.sh \
         and set UMGATE_VALIDATORS_PYTHON=$PWD/.venv-validators/bin/python"
    );
    // Written to stderr directly, not with eprintln!, so that libtest's output capture does not
    // swallow it: a plain `cargo test` shows it.
    let banner = format!(
        "\n*****************************************************************************\n\
         SKIPPED: external validators (pyx12) not installed; run .ci/validators/setup.sh\n\
         ({problem})\n\
         *****************************************************************************\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every interchange file of the shared corpus (not its README, nor the held-out set's manifest
/// and script should it be materialised there), and the X12 files of `samples/`.
fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus");
    assert!(corpus.is_dir(), "{} is missing: the shared corpus lies beside the repository", corpus.display());
    let mut corpus_files = Vec::new();
    files_under(&corpus, &mut corpus_files);
    corpus_files.retain(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name != "README.md" && !name.ends_with(".md") && !name.ends_with(".tsv") && !name.ends_with(".sh")
    });
    let mut sample_files = Vec::new();
    if root.join("samples").is_dir() {
        files_under(&root.join("samples"), &mut sample_files);
    }
    sample_files.retain(|p| {
        std::fs::read(p).is_ok_and(|bytes| bytes.windows(4).take(512).any(|w| w == b"ISA*" || w == b"ISA|"))
    });
    let mut all: Vec<PathBuf> = corpus_files.into_iter().chain(sample_files).collect();
    all.sort();
    assert!(all.len() >= 10, "expected the corpus's interchanges, found {} files", all.len());
    all
}

#[derive(Debug)]
struct Verdict {
    ok: bool,
    errors: Vec<String>,
}

/// Runs the driver on `files`; one verdict per file, keyed by the path given.
fn pyx12(python: &Path, files: &[PathBuf]) -> BTreeMap<String, Verdict> {
    let out = Command::new(python).arg(DRIVER).args(files).output().expect("running the pyx12 driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the pyx12 driver failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut verdicts = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("driver printed a line that is not JSON ({e}): {line}"));
        let file = value["file"].as_str().expect("file").to_owned();
        let ok = value["ok"].as_bool().expect("ok");
        let errors = value["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect();
        verdicts.insert(file, Verdict { ok, errors });
    }
    for file in files {
        assert!(
            verdicts.contains_key(&file.display().to_string()),
            "the pyx12 driver gave no verdict for {}",
            file.display()
        );
    }
    verdicts
}

/// `text` with each segment passed through `edit` (segment without its terminator and the line
/// break before it; `None` drops the segment). Delimiters are read from the ISA.
fn edit_segments(text: &str, mut edit: impl FnMut(&str, char) -> Option<String>) -> String {
    let isa = text.find("ISA").expect("an ISA");
    let element = text[isa + 3..].chars().next().expect("element separator");
    let terminator = text[isa..].chars().nth(105).expect("segment terminator");
    let mut out = String::new();
    let mut pieces = text.split(terminator).peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        let body = piece.trim_start();
        let lead = &piece[..piece.len() - body.len()];
        if last || body.is_empty() {
            out.push_str(piece);
            if !last {
                out.push(terminator);
            }
            continue;
        }
        if let Some(new) = edit(body, element) {
            out.push_str(lead);
            out.push_str(&new);
            out.push(terminator);
        }
    }
    out
}

fn set_element(segment: &str, element: char, index: usize, value: &str) -> String {
    let mut parts: Vec<String> = segment.split(element).map(str::to_owned).collect();
    if parts.len() <= index {
        parts.resize(index + 1, String::new());
    }
    parts[index] = value.to_owned();
    parts.join(&element.to_string())
}

fn element_of(segment: &str, element: char, index: usize) -> String {
    segment.split(element).nth(index).unwrap_or_default().to_owned()
}

fn id_of(segment: &str, element: char) -> &str {
    segment.split(element).next().unwrap_or_default()
}

/// Corrupted copies of a 999 (with at least one AK2) and of a TA1, each wrong in one way.
fn corrupted_copies(ack_999: &str, ta1: &str) -> Vec<(&'static str, String)> {
    let wrong_se01 = edit_segments(ack_999, |s, e| {
        Some(if id_of(s, e) == "SE" {
            let n: u32 = element_of(s, e, 1).parse().expect("SE01 a number");
            set_element(s, e, 1, &(n + 3).to_string())
        } else {
            s.to_owned()
        })
    });
    let bad_ik5 = edit_segments(ack_999, |s, e| {
        Some(if id_of(s, e) == "IK5" { set_element(s, e, 1, "Q") } else { s.to_owned() })
    });
    let ak9_counts = edit_segments(ack_999, |s, e| {
        Some(if id_of(s, e) == "AK9" {
            let received: u32 = element_of(s, e, 3).parse().expect("AK903 a number");
            let s = set_element(s, e, 2, &(received + 2).to_string());
            set_element(&s, e, 3, &(received + 2).to_string())
        } else {
            s.to_owned()
        })
    });
    // AK1 dropped, SE01 lowered to match, so that the missing AK1 is the only defect.
    let no_ak1 = edit_segments(ack_999, |s, e| match id_of(s, e) {
        "AK1" => None,
        "SE" => {
            let n: u32 = element_of(s, e, 1).parse().expect("SE01 a number");
            Some(set_element(s, e, 1, &(n - 1).to_string()))
        }
        _ => Some(s.to_owned()),
    });
    let bad_ta104 =
        edit_segments(ta1, |s, e| Some(if id_of(s, e) == "TA1" { set_element(s, e, 4, "X") } else { s.to_owned() }));
    let copies = vec![
        ("999 with a wrong SE01", wrong_se01),
        ("999 with IK501 Q", bad_ik5),
        ("999 whose AK902/AK903 disagree with its AK2 loops", ak9_counts),
        ("999 without its AK1", no_ak1),
        ("TA1 with TA104 X", bad_ta104),
    ];
    for (what, text) in &copies {
        assert!(text != ack_999 && text != ta1, "the corruption '{what}' changed nothing");
    }
    copies
}

#[test]
fn acknowledgments_pass_pyx12() {
    let Some(python) = validators_python() else {
        return;
    };
    let inputs = inputs();
    let acks = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_umgate"))
        .arg("validate")
        .arg("--ack-dir")
        .arg(acks.path())
        .args(["--fixed-time", "2026-01-02T03:04"])
        .args(&inputs)
        .env("UMGATE_DATA_DIR", acks.path().join("data"))
        .output()
        .expect("running umgate validate");
    // 0: all accepted, 1: something rejected (the corpus has invalid files on purpose), 2: error.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "umgate validate failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let mut written: Vec<PathBuf> = std::fs::read_dir(acks.path())
        .expect("ack dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".999.x12") || p.to_string_lossy().ends_with(".ta1.x12"))
        .collect();
    written.sort();
    let count_999 = written.iter().filter(|p| p.to_string_lossy().ends_with(".999.x12")).count();
    let count_ta1 = written.len() - count_999;
    assert!(
        count_999 >= 5 && count_ta1 >= 5,
        "expected 999s and TA1s from the corpus, got {count_999} 999s and {count_ta1} TA1s"
    );

    let verdicts = pyx12(&python, &written);
    let failures: Vec<String> = verdicts
        .iter()
        .filter(|(_, v)| !v.ok)
        .map(|(file, v)| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            format!("{file}:\n  {}\n--- content ---\n{text}", v.errors.join("\n  "))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "pyx12 rejected {} of the {} acknowledgments umgate wrote:\n\n{}",
        failures.len(),
        written.len(),
        failures.join("\n\n")
    );
    eprintln!("pyx12 accepted all {} acknowledgments ({count_999} 999, {count_ta1} TA1)", written.len());

    // Negative controls: the same check must reject broken copies of what it just accepted.
    let read = |p: &PathBuf| std::fs::read_to_string(p).expect("reading an acknowledgment");
    let ack_999 = written
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".999.x12"))
        .map(read)
        .find(|t| t.contains("AK2*"))
        .expect("a 999 with an AK2 loop");
    let ta1 = written.iter().find(|p| p.to_string_lossy().ends_with(".ta1.x12")).map(read).expect("a TA1");
    let broken_dir = tempfile::tempdir().expect("temporary directory");
    let mut broken = Vec::new();
    for (i, (what, text)) in corrupted_copies(&ack_999, &ta1).into_iter().enumerate() {
        let path = broken_dir.path().join(format!("broken-{i}.x12"));
        std::fs::write(&path, text).expect("writing a corrupted copy");
        broken.push((what, path));
    }
    let paths: Vec<PathBuf> = broken.iter().map(|(_, p)| p.clone()).collect();
    let verdicts = pyx12(&python, &paths);
    for (what, path) in &broken {
        let verdict = &verdicts[&path.display().to_string()];
        assert!(
            !verdict.ok && !verdict.errors.is_empty(),
            "negative control: the check accepted a {what}:\n{}",
            std::fs::read_to_string(path).unwrap_or_default()
        );
        eprintln!("negative control rejected as expected: {what}: {}", verdict.errors[0]);
    }
}
