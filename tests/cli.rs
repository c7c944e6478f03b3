//! The command-line contracts of SPEC section 9, through the real binary: exit codes, JSON lines,
//! acknowledgment files, the JSON tree, and the daemon answering on its health endpoint.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output};

fn umgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate")).args(args).output().expect("the binary runs")
}

fn sample() -> String {
    common::samples_dir().join("x12/278-request-medical-oncology.x12").display().to_string()
}

fn corpus(relative: &str) -> String {
    common::corpus_dir().join(relative).display().to_string()
}

#[test]
fn validate_json_lines_and_exit_codes() {
    let accepted = umgate(&["validate", "--json", &sample()]);
    assert_eq!(accepted.status.code(), Some(0), "{}", String::from_utf8_lossy(&accepted.stderr));
    let line: serde_json::Value = serde_json::from_slice(&accepted.stdout).expect("one JSON line");
    assert_eq!(line["isa13"], "000000101");
    assert_eq!(line["ta1"]["ack"], "A");
    assert_eq!(line["ta1"]["note_code"], "000");
    assert_eq!(line["groups"][0]["gs06"], "101");
    assert_eq!(line["groups"][0]["ack"], "A");
    assert_eq!(line["groups"][0]["sets"][0]["st01"], "278");
    assert_eq!(line["groups"][0]["sets"][0]["st02"], "0001");
    assert_eq!(line["groups"][0]["sets"][0]["errors"], serde_json::json!([]));

    // Two files, one rejected: one line each, exit 1; errors carry the IK3/IK4 fields.
    let rejected = umgate(&[
        "validate",
        "--json",
        &sample(),
        &corpus("278/dwai_edi_parser__X217-request-for-non-emergency-transportation.edi"),
    ]);
    assert_eq!(rejected.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&rejected.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    let error = &lines[1]["groups"][0]["sets"][0]["errors"][0];
    for key in ["segment", "position", "loop", "code", "element", "component", "element_code"] {
        assert!(error.get(key).is_some(), "error lacks {key}: {error}");
    }
    assert_eq!(error["segment"], "HL");
    assert_eq!(error["code"], "8");
    assert_eq!(error["element"], 2);
    assert_eq!(error["element_code"], "7");

    // A partially accepted group is exit 1 too; a missing file or a bad flag is 2.
    assert_eq!(umgate(&["validate", &corpus("270/kartik_x12tools__270_batch_multi.x12")]).status.code(), Some(0));
    assert_eq!(umgate(&["validate", "/nonexistent/file.x12"]).status.code(), Some(2));
    assert_eq!(umgate(&["validate", "--no-such-flag", &sample()]).status.code(), Some(2));
    // Not X12 at all: reported, exit 1.
    let not_x12 = umgate(&["validate", "--json", &corpus("mixed/badx12__bad_file.edi")]);
    assert_eq!(not_x12.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_x12.stdout).contains("not X12"));
}

#[test]
fn ack_dir_receives_the_999_and_ta1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = umgate(&[
        "validate",
        "--ack-dir",
        &dir.path().display().to_string(),
        "--fixed-time",
        "2026-01-02T03:04",
        &sample(),
        &corpus("278/oopfactory__278_5010_Example_3_1_1_Request.txt"),
    ]);
    assert_eq!(out.status.code(), Some(1), "the 00401 interchange is rejected");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ack dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "278-request-medical-oncology.x12.000000101.999.x12",
            "278-request-medical-oncology.x12.000000101.ta1.x12",
            "oopfactory__278_5010_Example_3_1_1_Request.txt.000000031.ta1.x12",
        ]
    );
    let ta1 = std::fs::read_to_string(dir.path().join(&names[2])).expect("TA1 file");
    assert!(ta1.contains("TA1*000000031*") && ta1.contains("*R*003~"), "{ta1}");
    let ack = std::fs::read_to_string(dir.path().join(&names[0])).expect("999 file");
    assert!(ack.contains("AK1*HI*101*005010X217~") && ack.contains("IK5*A~") && ack.contains("AK9*A*1*1*1~"), "{ack}");
    // Addressed back to the sender: ISA06 of the 999 is the inbound ISA08.
    assert!(
        ack.starts_with("ISA*00*          *00*          *ZZ*UMGATE         *ZZ*CLEARHOUSE01   *260102*0304*"),
        "{ack}"
    );
}

#[test]
fn to_json_shows_the_guide_loops() {
    let out = umgate(&["to-json", &sample()]);
    assert_eq!(out.status.code(), Some(0));
    let tree: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let set = &tree["interchanges"][0]["groups"][0]["sets"][0];
    assert_eq!(set["transaction"], "request");
    let text = set.to_string();
    for loop_id in ["\"2000A\"", "\"2010A\"", "\"2000B\"", "\"2000C\"", "\"2010C\"", "\"2000E\"", "\"2000F\""] {
        assert!(text.contains(loop_id), "{loop_id} missing");
    }
    // A composite is an array of components.
    assert!(text.contains(r#"["HC","J9267"]"#), "{text}");
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn serve_opens_the_sample_configuration_and_sqlite_then_answers_health_and_readiness() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let data = tempfile::tempdir().expect("data dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_umgate"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", &data.path().display().to_string()])
        .env_remove("UMGATE_DATABASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .expect("serve starts");
    let mut health = None;
    for _ in 0..300 {
        health = http_get(port, "/healthz");
        if health.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let ready = http_get(port, "/readyz");
    let _ = child.kill();
    let _ = child.wait();
    let health = health.expect("serve answered within 30 s");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#"{"status":"ok"}"#), "{health}");
    let ready = ready.expect("readiness answered");
    assert!(ready.contains(r#""status":"ready""#) && ready.contains(r#""database":"sqlite""#), "{ready}");
    assert!(ready.contains(r#""plans":5"#), "the sample configuration has five plans: {ready}");
    assert!(data.path().join("umgate.db").is_file(), "the embedded database is created in the data directory");
}

#[test]
fn serve_refuses_to_start_on_a_broken_configuration() {
    let data = tempfile::tempdir().expect("data dir");
    let config = data.path().join("broken.toml");
    std::fs::write(&config, "this is = not [valid toml\n").expect("write config");
    let output = Command::new(env!("CARGO_BIN_EXE_umgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data.path().display().to_string()])
        .arg("--config")
        .arg(&config)
        .env_remove("UMGATE_DATABASE_URL")
        .output()
        .expect("serve runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.toml") && stderr.contains("umgate config check"), "{stderr}");
}
