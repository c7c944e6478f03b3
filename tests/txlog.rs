//! The transaction log end to end, on SQLite and PostgreSQL (stores_support harness): `umgate
//! process` logs the sample files, then
//! - `umgate log search|sent|show|output` through the real binary find them by every filter, page
//!   through them, and print the bytes exactly as received and as sent (the answer files);
//! - the HTTP endpoints through the daemon's router: 403 without a configured token, 401 without
//!   or with a wrong one, 200 with it; pages, the detail with answers and cases, raw bytes
//!   identical to what was received and sent; route templates, never ids, in the metrics.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{Context, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use stores_support::{TestDb, TestResult};
use tower::ServiceExt;
use umgate::server::log_api::config::AdminToken;
use umgate::server::log_api::{self, LogApi};
use umgate::server::{Metrics, Readiness, http::RequestLimits, router_with};

const TOKEN: &str = "test-admin-token-0123456789abcdef";

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        cli_finds_pages_and_prints_what_was_received_and_sent,
        http_log_is_guarded_paged_and_raw,
        a_later_278_response_is_shown_with_the_interchange_it_answers,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate"))
        .current_dir(root())
        .arg("--db")
        .arg(db.url())
        .args(args)
        .env_remove("UMGATE_FIXED_TIME")
        .output()
        .expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn json(output: &Output) -> anyhow::Result<Value> {
    ensure!(output.status.code() == Some(0), "{}", show(output));
    serde_json::from_slice(&output.stdout).with_context(|| show(output))
}

/// The samples logged: a few 278 requests and 270 inquiries from two senders.
const SAMPLES: [&str; 4] = [
    "278-request-therapy-msmpt.x12",
    "270-batch-two-sets.x12",
    "278-request-msk-injection-medicare.x12",
    "270-active-pa-required.x12",
];

/// Imports the roster and processes the samples into `out`.
fn process_samples(db: &TestDb, out: &Path) -> TestResult {
    let roster = umgate(db, &["roster", "import", "samples/roster.csv"]);
    ensure!(roster.status.code() == Some(0), "{}", show(&roster));
    let mut args = vec!["process".to_owned(), "--out".to_owned(), out.display().to_string()];
    args.extend(SAMPLES.iter().map(|name| format!("samples/x12/{name}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = umgate(db, &args);
    ensure!(output.status.code() == Some(0), "{}", show(&output));
    Ok(())
}

/// The interchange as received: the sample file without what follows its IEA (a line break).
fn received(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(root().join("samples/x12").join(name)).unwrap();
    let end = bytes.iter().rposition(|b| *b == b'~').map_or(bytes.len(), |at| at + 1);
    bytes[..end].to_vec()
}

/// The answer file `process` wrote for this answer of this sample.
fn answer_file(out: &Path, sample: &str, kind: &str, control_number: &str) -> Vec<u8> {
    let suffix = format!(".{}.{control_number}.x12", kind.to_ascii_lowercase());
    let found = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(sample) && name.ends_with(&suffix)
        })
        .unwrap_or_else(|| panic!("no answer file {sample}...{suffix}"));
    std::fs::read(found).unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|item| item["id"].as_i64().unwrap()).collect()
}

fn id_of(page: &Value, file_name: &str) -> i64 {
    page["items"].as_array().unwrap().iter().find(|item| item["file_name"] == file_name).unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn cli_finds_pages_and_prints_what_was_received_and_sent(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    process_samples(&db, &out)?;

    let all = json(&umgate(&db, &["log", "search", "--json"]))?;
    ensure!(ids(&all).len() == SAMPLES.len() && all["next_cursor"].is_null(), "{all}");
    let names: BTreeSet<&str> =
        all["items"].as_array().unwrap().iter().map(|i| i["file_name"].as_str().unwrap()).collect();
    ensure!(names == SAMPLES.into_iter().collect(), "{names:?}");

    // By type (the search summarizes what the batch path logged without a summary).
    let inquiries = json(&umgate(&db, &["log", "search", "--type", "270", "--json"]))?;
    let found: BTreeSet<i64> = ids(&inquiries).into_iter().collect();
    let expected: BTreeSet<i64> =
        SAMPLES.iter().filter(|name| name.starts_with("270")).map(|name| id_of(&all, name)).collect();
    ensure!(found == expected, "270s: {found:?}, expected {expected:?}");
    let two_sets = &inquiries["items"].as_array().unwrap().iter().find(|i| i["file_name"] == SAMPLES[1]).unwrap();
    ensure!(two_sets["transaction_sets"] == serde_json::json!([{"set_id": "270", "count": 2}]), "{two_sets}");

    // By sender, control number, status, dates.
    let therapy = all["items"].as_array().unwrap().iter().find(|i| i["file_name"] == SAMPLES[0]).unwrap().clone();
    let sender =
        format!("{}:{}", therapy["sender"]["qualifier"].as_str().unwrap(), therapy["sender"]["id"].as_str().unwrap());
    let by_sender = json(&umgate(&db, &["log", "search", "--sender", &sender, "--json"]))?;
    ensure!(by_sender["items"].as_array().unwrap().iter().all(|i| i["sender"] == therapy["sender"]));
    ensure!(ids(&by_sender).contains(&therapy["id"].as_i64().unwrap()));
    let control = therapy["control_number"].as_str().unwrap();
    let short = control.trim_start_matches('0');
    let by_control = json(&umgate(&db, &["log", "search", "--control-number", short, "--sender", &sender, "--json"]))?;
    ensure!(ids(&by_control) == vec![therapy["id"].as_i64().unwrap()], "{by_control}");
    let answered = json(&umgate(&db, &["log", "search", "--status", "answered", "--json"]))?;
    ensure!(ids(&answered).len() == SAMPLES.len());
    let future = json(&umgate(&db, &["log", "search", "--since", "2999-01-01", "--json"]))?;
    ensure!(ids(&future).is_empty());
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let today_only = json(&umgate(&db, &["log", "search", "--since", &today, "--until", &today, "--json"]))?;
    ensure!(ids(&today_only).len() == SAMPLES.len());

    // Pages of one, followed through the cursor printed on stderr, give every row once, in order.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["log", "search", "--limit", "1", "--json"];
        if let Some(cursor) = &cursor {
            args.extend(["--cursor", cursor.as_str()]);
        }
        let output = umgate(&db, &args);
        let page = json(&output)?;
        paged.extend(ids(&page));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        match page["next_cursor"].as_str() {
            Some(next) => {
                ensure!(stderr.contains(&format!("--cursor {next}")), "{stderr}");
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    ensure!(paged == ids(&all), "{paged:?} vs {:?}", ids(&all));

    // The detail names every answer; each answer's bytes are the file written.
    let id = therapy["id"].as_i64().unwrap().to_string();
    let detail = json(&umgate(&db, &["log", "show", &id, "--json"]))?;
    let answers = detail["answers"].as_array().unwrap();
    ensure!(answers.iter().any(|a| a["kind"] == "999" && a["acknowledgment"] == true), "{detail}");
    ensure!(answers.iter().any(|a| a["kind"] == "278" && a["acknowledgment"] == false), "{detail}");
    ensure!(detail["acknowledgments"].as_array().unwrap().len() == 1, "{detail}");
    ensure!(detail["cases"].as_array().unwrap().len() == 1, "{detail}");
    for answer in answers {
        let seq = answer["seq"].to_string();
        let bytes = umgate(&db, &["log", "output", &id, &seq]);
        ensure!(bytes.status.code() == Some(0), "{}", show(&bytes));
        let kind = answer["kind"].as_str().unwrap();
        let expected = answer_file(&out, SAMPLES[0], kind, answer["control_number"].as_str().unwrap());
        ensure!(bytes.stdout == expected, "answer {seq} differs from its file");
    }
    let raw = umgate(&db, &["log", "show", &id, "--raw"]);
    ensure!(raw.status.code() == Some(0) && raw.stdout == received(SAMPLES[0]), "raw differs");
    let text = umgate(&db, &["log", "show", &id]);
    let text = String::from_utf8_lossy(&text.stdout);
    ensure!(text.contains(control) && text.contains("acknowledgment") && text.contains("cases (1)"), "{text}");

    // Answers by kind and by their own control number.
    let acks = json(&umgate(&db, &["log", "sent", "--kind", "999", "--json"]))?;
    ensure!(acks["items"].as_array().unwrap().len() == SAMPLES.len(), "{acks}");
    let ours = answers[1]["control_number"].as_str().unwrap();
    let by_number = json(&umgate(&db, &["log", "sent", "--control-number", ours, "--json"]))?;
    let listed = by_number["items"].as_array().unwrap();
    ensure!(listed.len() == 1 && listed[0]["interchange_id"] == therapy["id"], "{by_number}");

    // Not found is 1, a bad filter 2 (usage), both said on stderr.
    let missing = umgate(&db, &["log", "show", "999999"]);
    ensure!(missing.status.code() == Some(1) && String::from_utf8_lossy(&missing.stderr).contains("no interchange"));
    ensure!(umgate(&db, &["log", "output", &id, "99"]).status.code() == Some(1));
    let bad = umgate(&db, &["log", "search", "--since", "last week"]);
    ensure!(bad.status.code() == Some(2) && String::from_utf8_lossy(&bad.stderr).contains("since"), "{}", show(&bad));
    Ok(())
}

fn app(store: umgate::storage::Store, token: Option<&str>) -> (axum::Router, Metrics) {
    let metrics = Metrics::new();
    let limits =
        RequestLimits { max_body_bytes: 1024, request_timeout: Duration::from_secs(10), metrics: metrics.clone() };
    let readiness = Readiness { database: "test", plans: 5, programs: 4 };
    let api = LogApi { store, admin_token: token.map(AdminToken::from_token) };
    (router_with(readiness, limits, log_api::routes(api)), metrics)
}

async fn get(app: &axum::Router, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    (status, body, headers)
}

async fn get_json(app: &axum::Router, path: &str) -> anyhow::Result<Value> {
    let (status, body, _) = get(app, path, Some(TOKEN)).await;
    ensure!(status == StatusCode::OK, "{path}: {status} {}", String::from_utf8_lossy(&body));
    Ok(serde_json::from_slice(&body)?)
}

async fn http_log_is_guarded_paged_and_raw(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    process_samples(&db, &out)?;
    let store = db.open().await?;

    // No token configured: every log endpoint is 403 and says how to enable it.
    let (closed, _) = app(store.clone(), None);
    for path in ["/v1/log", "/v1/log/1", "/v1/log/1/raw", "/v1/log/1/outputs/1/raw", "/v1/log/outputs"] {
        let (status, body, _) = get(&closed, path, Some(TOKEN)).await;
        let body: Value = serde_json::from_slice(&body)?;
        ensure!(status == StatusCode::FORBIDDEN && body["error"] == "admin_api_disabled", "{path}: {status} {body}");
        ensure!(body["message"].as_str().unwrap().contains("UMGATE_ADMIN_TOKEN"), "{body}");
    }
    // A token configured: 401 without it or with another, and the health endpoints stay open.
    let (app, metrics) = app(store.clone(), Some(TOKEN));
    for token in [None, Some("test-admin-token-0123456789abcdeX")] {
        let (status, body, headers) = get(&app, "/v1/log/1/raw", token).await;
        ensure!(status == StatusCode::UNAUTHORIZED, "{status}");
        ensure!(headers.get(header::WWW_AUTHENTICATE).is_some_and(|v| v == "Bearer"));
        ensure!(serde_json::from_slice::<Value>(&body)?["error"] == "unauthorized");
    }
    ensure!(get(&app, "/healthz", None).await.0 == StatusCode::OK);

    let all = get_json(&app, "/v1/log").await?;
    ensure!(ids(&all).len() == SAMPLES.len(), "{all}");
    let mut paged = Vec::new();
    let mut path = "/v1/log?limit=3".to_owned();
    loop {
        let page = get_json(&app, &path).await?;
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/v1/log?limit=3&cursor={next}"),
            None => break,
        }
    }
    ensure!(paged == ids(&all), "pages {paged:?}");
    let therapy = id_of(&all, SAMPLES[0]);
    let sender = &all["items"].as_array().unwrap().iter().find(|i| i["id"] == therapy).unwrap()["sender"];
    let query =
        format!("/v1/log?sender={}:{}&type=278", sender["qualifier"].as_str().unwrap(), sender["id"].as_str().unwrap());
    // The batch path logged without summaries: the daemon's sampler fills them in; here, at once.
    umgate::pipeline::log_index::summarize_pending(&store, 100, 1000).await?;
    ensure!(ids(&get_json(&app, &query).await?).contains(&therapy));

    let detail = get_json(&app, &format!("/v1/log/{therapy}")).await?;
    ensure!(detail["interchange"]["id"] == therapy && detail["cases"].as_array().unwrap().len() == 1, "{detail}");
    let (status, raw, headers) = get(&app, &format!("/v1/log/{therapy}/raw"), Some(TOKEN)).await;
    ensure!(status == StatusCode::OK && raw == received(SAMPLES[0]), "raw differs");
    ensure!(headers.get(header::CONTENT_TYPE).is_some_and(|v| v == "application/edi-x12"));
    ensure!(headers.get(header::CACHE_CONTROL).is_some_and(|v| v == "no-store"), "PHI is not cached");
    for answer in detail["answers"].as_array().unwrap() {
        let link = answer["links"]["raw"].as_str().unwrap();
        let (status, bytes, _) = get(&app, link, Some(TOKEN)).await;
        let expected =
            answer_file(&out, SAMPLES[0], answer["kind"].as_str().unwrap(), answer["control_number"].as_str().unwrap());
        ensure!(status == StatusCode::OK && bytes == expected, "{link} differs from its file");
    }
    let sent = get_json(&app, &format!("/v1/log/outputs?interchange={therapy}&kind=999")).await?;
    ensure!(sent["items"].as_array().unwrap().len() == 1, "{sent}");

    // Errors are JSON: a bad filter or an unknown one 400, an unknown id 404.
    for (path, status) in [
        ("/v1/log?limit=0", StatusCode::BAD_REQUEST),
        ("/v1/log?sendr=ZZ:X", StatusCode::BAD_REQUEST),
        ("/v1/log?cursor=nope", StatusCode::BAD_REQUEST),
        ("/v1/log/abc", StatusCode::BAD_REQUEST),
        ("/v1/log/999999", StatusCode::NOT_FOUND),
        ("/v1/log/999999/raw", StatusCode::NOT_FOUND),
        (&format!("/v1/log/{therapy}/outputs/99/raw"), StatusCode::NOT_FOUND),
    ] {
        let (got, body, _) = get(&app, path, Some(TOKEN)).await;
        let body: Value = serde_json::from_slice(&body).with_context(|| format!("{path}: not JSON"))?;
        ensure!(got == status && body["error"].is_string(), "{path}: {got} {body}");
    }
    // Metrics name the route templates, never an id from a path.
    let text = metrics.encode();
    ensure!(text.contains(r#"route="/v1/log/{id}/raw""#), "{text}");
    ensure!(!text.contains(&format!("/v1/log/{therapy}")), "an id in a label: {text}");
    store.close().await;
    Ok(())
}

async fn a_later_278_response_is_shown_with_the_interchange_it_answers(db: TestDb) -> TestResult {
    let roster = umgate(&db, &["roster", "import", "samples/roster.csv"]);
    ensure!(roster.status.code() == Some(0), "{}", show(&roster));
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out").display().to_string();
    let mut requests: Vec<String> = std::fs::read_dir(root().join("samples/x12"))?
        .map(|entry| entry.unwrap().path().display().to_string())
        .filter(|path| path.contains("/278-request-"))
        .collect();
    requests.sort();
    let mut args = vec!["process", "--out", out.as_str()];
    args.extend(requests.iter().map(String::as_str));
    let processed = umgate(&db, &args);
    ensure!(processed.status.code().is_some_and(|code| code <= 1), "{}", show(&processed));
    // A pended case, decided now: its submitter is owed a later 278 response.
    let queue = umgate(&db, &["review", "queue"]);
    let queue = String::from_utf8_lossy(&queue.stdout).into_owned();
    let case_id = queue.split_whitespace().next().context("a pended case among the samples")?.to_owned();
    let decided = umgate(&db, &["review", "decide", &case_id, "--decision", "approve", "--reviewer", "nurse-7"]);
    ensure!(decided.status.code() == Some(0), "{}", show(&decided));
    let notes = dir.path().join("notes").display().to_string();
    let notified = umgate(&db, &["notify", "--out", &notes]);
    ensure!(notified.status.code() == Some(0), "{}", show(&notified));

    let all = json(&umgate(&db, &["log", "search", "--limit", "1000", "--json"]))?;
    let mut shown = Vec::new();
    for id in ids(&all) {
        let detail = json(&umgate(&db, &["log", "show", &id.to_string(), "--json"]))?;
        for later in detail["later_answers"].as_array().unwrap() {
            shown.push((id, later.clone(), detail["cases"].clone()));
        }
    }
    ensure!(shown.len() == 1, "one later answer: {shown:?}");
    let (_, later, cases) = &shown[0];
    ensure!(
        later["case_id"] == case_id.as_str() && later["status"] == "sent" && later["sent_at"].is_string(),
        "{later}"
    );
    ensure!(cases.as_array().unwrap().iter().any(|case| case["case_id"] == case_id.as_str()), "{cases}");
    let isa13 = later["control_number"].as_str().unwrap();
    let written: Vec<String> =
        std::fs::read_dir(&notes)?.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    ensure!(written.iter().any(|name| name.contains(&case_id) && name.contains(isa13)), "{written:?} vs {isa13}");
    Ok(())
}
