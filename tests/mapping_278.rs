//! 278 request → case → 278 response, end to end on the in-memory repository with a fixed clock
//! and fixed control numbers: for each sample request (samples/x12/278-request-*.x12) and each
//! usable 278 request of the shared corpus (read in place, never copied), the response must
//! (a) pass our own validator, (b) be read back by the x12-types crate's 278 types, and (c) match
//! its golden file byte for byte (`UMGATE_UPDATE_GOLDEN=1 cargo test --test mapping_278` after an
//! intended change). Each sample also states the outcome it must give (HCR01 or AAA03).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use umgate::ack::{Counter, Outbound};
use umgate::domain::rules::IntakeRejection;
use umgate::domain::{
    Case, CaseRepository, CaseService, LineOfBusiness, ManualClock, MemberRecord, MemoryRepository, ReviewDecision,
    UmPolicy,
};
use umgate::grammar::GuideSet;
use umgate::mapping::tree::{InterchangeTrees, SetTree, read_trees};
use umgate::mapping::x217::{
    Answer, Decision, FollowUp, Handled, MappingError, handle, is_request, read_request, write_notification,
    write_response_interchange,
};
use umgate::validation::Ack;
use x12_types::util::Parser;

type Service = CaseService<MemoryRepository, ManualClock>;

/// Expected outcome per sample: `HCR <event HCR01> [<line HCR01>...]` or `AAA <loop> <AAA03>`.
/// The cancellation, extension, revision and appeal samples name a certification (or the trace
/// of a request) that a fresh repository does not hold: alone they are answered "authorization
/// number not found"; `requests_about_earlier_certifications_change_them` chains them.
const SAMPLES: &[(&str, &str)] = &[
    ("278-request-appeal.x12", "AAA 2000E AA"),
    ("278-request-bad-birth-date.x12", "AAA 2010C 71"),
    ("278-request-cancel.x12", "AAA 2000E AA"),
    ("278-request-emergency-room-pos23.x12", "HCR NA NA"),
    ("278-request-extension.x12", "AAA 2000E AA"),
    ("278-request-medical-oncology.x12", "HCR A3 A3"),
    ("278-request-msk-injection-medicaid.x12", "HCR A4 A4"),
    ("278-request-msk-injection-medicare.x12", "HCR A4 A4"),
    ("278-request-oncology-folfox-colon.x12", "HCR A1 A1 A1 A1"),
    ("278-request-oncology-nonpreferred-irox.x12", "HCR A4 A4 A4"),
    ("278-request-radiation-oncology-rc.x12", "HCR A4 A4"),
    ("278-request-revised.x12", "AAA 2000E AA"),
    ("278-request-therapy-dependent.x12", "HCR A4 A4"),
    ("278-request-therapy-msmpt.x12", "HCR A1 A1"),
    ("278-request-unknown-member.x12", "AAA 2010C 75"),
];

fn policy() -> Arc<dyn UmPolicy> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml");
    umgate::domain::policy_adapter::load_sample(&root).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The fixed moment of every test answer: Wednesday 2026-03-04 14:00 UTC.
fn now() -> NaiveDateTime {
    day(2026, 3, 4).and_hms_opt(14, 0, 0).unwrap()
}

/// Fake members (SPEC §8 plan keys of the sample configuration).
fn roster() -> Vec<MemberRecord> {
    let member = |id: &str, birth: NaiveDate, plan: &str, line_of_business| MemberRecord {
        member_id: id.into(),
        first_name: "JANE".into(),
        last_name: "SAMPLE".into(),
        birth_date: birth,
        gender: None,
        plan: plan.into(),
        line_of_business,
        coverage_start: day(2025, 1, 1),
        coverage_end: None,
    };
    vec![
        member("M000000001", day(1970, 1, 1), "cigna-commercial", LineOfBusiness::Commercial),
        member("M100000001", day(1968, 4, 12), "cigna-commercial", LineOfBusiness::Commercial),
        member("M200000001", day(1950, 7, 1), "healthspring-ma", LineOfBusiness::Medicare),
        member("M300000001", day(1948, 2, 3), "aetna-medicare", LineOfBusiness::Medicare),
        member("M400000001", day(1985, 9, 9), "aetna-medicaid", LineOfBusiness::Medicaid),
        member("M500000001", day(2018, 2, 20), "cigna-commercial", LineOfBusiness::Commercial),
        // A corpus member (X217 medical services reservation example), so that one corpus
        // request goes past the roster.
        member("12345689001", day(1958, 3, 22), "cigna-commercial", LineOfBusiness::Commercial),
    ]
}

async fn service() -> Service {
    let clock = ManualClock::new(Utc.from_utc_datetime(&now()));
    let repository = MemoryRepository::new();
    for member in roster() {
        repository.upsert_member(&member).await.unwrap();
    }
    CaseService::new(policy(), repository, clock)
}

/// What became of one request set.
enum Outcome {
    Case(Box<Case>),
    Rejected(IntakeRejection),
    Unmapped(MappingError),
    FollowUp(FollowUp),
}

impl Outcome {
    fn decision(&self) -> Decision<'_> {
        match self {
            Outcome::Case(case) => Decision::Case(case),
            Outcome::Rejected(rejection) => Decision::Rejected(*rejection),
            Outcome::Unmapped(error) => Decision::Unmapped(error),
            Outcome::FollowUp(follow_up) => Decision::FollowUp(follow_up),
        }
    }
}

async fn decide(service: &Service, set: &SetTree) -> Outcome {
    match read_request(set) {
        Err(error) => Outcome::Unmapped(error),
        Ok(request) => match handle(service, set, request).await.unwrap() {
            Handled::Case(case) => Outcome::Case(case),
            Handled::Rejected(rejection) => Outcome::Rejected(rejection),
            Handled::FollowUp(follow_up) => Outcome::FollowUp(follow_up),
        },
    }
}

fn outbound() -> Outbound {
    Outbound { at: now(), line_break: b"\n".to_vec() }
}

/// The response interchanges to every interchange of `bytes`, and the cases made.
async fn respond(service: &Service, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Case>) {
    let guides = GuideSet::builtin().unwrap();
    let mut responses = Vec::new();
    let mut cases = Vec::new();
    let mut numbers = Counter::starting_at(1);
    for trees in read_trees(bytes, "input", guides).unwrap() {
        let sets: Vec<&SetTree> = trees.answerable().filter(|set| is_request(set)).collect();
        let mut outcomes = Vec::new();
        for set in &sets {
            outcomes.push(decide(service, set).await);
        }
        let answers: Vec<Answer<'_>> =
            sets.iter().zip(&outcomes).map(|(set, outcome)| Answer { set, decision: outcome.decision() }).collect();
        if let Some(bytes) = write_response_interchange(&trees, &answers, &outbound(), &mut numbers) {
            responses.push(bytes);
        }
        cases.extend(outcomes.into_iter().filter_map(|o| match o {
            Outcome::Case(case) => Some(*case),
            _ => None,
        }));
    }
    (responses, cases)
}

/// (a) our validator accepts the response without a single error, as a 278 response.
fn check_with_our_validator(name: &str, bytes: &[u8]) -> Result<Vec<InterchangeTrees>, String> {
    for report in common::validate_bytes(bytes) {
        let clean = report.all_accepted()
            && report.ta1.is_none()
            && report.groups.iter().all(|g| {
                g.ack == Ack::Accepted
                    && g.sets
                        .iter()
                        .all(|s| s.ack == Ack::Accepted && s.errors.is_empty() && s.transaction == "response")
            });
        if !clean || report.groups.is_empty() {
            return Err(format!("{name}: our validator does not accept it: {}", report.to_json()));
        }
    }
    Ok(read_trees(bytes, name, GuideSet::builtin().unwrap()).unwrap())
}

/// (b) x12-types reads it as a 278 transmission, to the last byte, with every HL, HCR and AAA.
fn check_with_x12_types(name: &str, bytes: &[u8], ours: &[InterchangeTrees]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).unwrap();
    let (rest, transmission) = x12_types::v005010::Transmission::<x12_types::v005010::_278>::parse(text)
        .map_err(|e| format!("{name}: {e}"))?;
    if !rest.trim().is_empty() {
        return Err(format!("{name}: x12-types stopped before the end: {rest:.80}"));
    }
    let count = |id: &str| {
        ours.iter()
            .flat_map(|i| &i.sets)
            .map(|set| {
                let mut n = 0;
                let mut stack = vec![&set.root];
                while let Some(node) = stack.pop() {
                    n += node.segments(id).count();
                    stack.extend(node.children.iter());
                }
                n
            })
            .sum::<usize>()
    };
    let loops: Vec<_> = transmission.functional_group.iter().flat_map(|g| &g.segments).flat_map(|s| &s.loops).collect();
    let peer_hcr = loops.iter().filter(|l| l.hcr.is_some()).count();
    let peer_aaa: usize =
        loops.iter().map(|l| l.aaa.len() + l.loop_nm1.iter().map(|n| n.aaa.len()).sum::<usize>()).sum();
    if loops.len() != count("HL") || peer_hcr != count("HCR") || peer_aaa != count("AAA") {
        return Err(format!(
            "{name}: x12-types read {} HL, {peer_hcr} HCR, {peer_aaa} AAA; we wrote {}, {}, {}",
            loops.len(),
            count("HL"),
            count("HCR"),
            count("AAA")
        ));
    }
    Ok(())
}

/// (c) the golden file.
fn check_golden(name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = golden_dir().join(name);
    if std::env::var_os("UMGATE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        return Ok(());
    }
    match std::fs::read(&path) {
        Ok(golden) if golden == bytes => Ok(()),
        Ok(_) => Err(format!("{name}: differs from the golden file (UMGATE_UPDATE_GOLDEN=1 to accept)")),
        Err(_) => Err(format!("{name}: no golden file (UMGATE_UPDATE_GOLDEN=1 to create)")),
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/278")
}

/// `HCR A1 A1` (event then lines) or `AAA 2010C 75` (first reject) of a response.
fn outcome_of(trees: &[InterchangeTrees]) -> String {
    let Some(set) = trees.first().and_then(|t| t.sets.first()) else { return "no response set".into() };
    for id in ["2010A", "2010B", "2010C", "2010D", "2000E", "2000F"] {
        for node in set.find_all(id) {
            if let Some(aaa) = node.segment("AAA") {
                return format!("AAA {id} {}", aaa.element(3));
            }
        }
    }
    let mut words = vec!["HCR".to_owned()];
    for id in ["2000E", "2000F"] {
        for node in set.find_all(id) {
            words.push(node.segment("HCR").map(|h| h.element(1).to_owned()).unwrap_or_else(|| "-".into()));
        }
    }
    words.join(" ")
}

fn check_all(name: &str, bytes: &[u8], failures: &mut Vec<String>) -> Option<Vec<InterchangeTrees>> {
    let ours = match check_with_our_validator(name, bytes) {
        Ok(trees) => trees,
        Err(error) => {
            failures.push(error);
            return None;
        }
    };
    if let Err(error) = check_with_x12_types(name, bytes, &ours) {
        failures.push(error);
    }
    if let Err(error) = check_golden(name, bytes) {
        failures.push(error);
    }
    Some(ours)
}

#[tokio::test]
async fn sample_requests_are_answered_with_valid_responses_matching_the_golden_files() {
    let mut failures = Vec::new();
    let dir = common::samples_dir().join("x12");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("278-request-"))
        .collect();
    found.sort();
    let listed: Vec<String> = SAMPLES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(found, listed, "every 278 request sample has an expected outcome here");
    for (file, expected) in SAMPLES {
        // A fresh repository per sample: each answer stands on its own.
        let service = service().await;
        let (responses, _) = respond(&service, &std::fs::read(dir.join(file)).unwrap()).await;
        assert_eq!(responses.len(), 1, "{file}");
        let name = file.replace("278-request-", "278-response-");
        if let Some(ours) = check_all(&name, &responses[0], &mut failures) {
            let got = outcome_of(&ours);
            if got != *expected {
                failures.push(format!("{file}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn usable_corpus_requests_are_answered_with_valid_responses() {
    let mut failures = Vec::new();
    let mut answered = Vec::new();
    let guides = GuideSet::builtin().unwrap();
    for file in common::corpus_files().iter().filter(|f| f.starts_with("278/")) {
        let bytes = std::fs::read(common::corpus_dir().join(file)).unwrap();
        let usable =
            read_trees(bytes.as_slice(), file, guides).unwrap().iter().any(|trees| trees.answerable().any(is_request));
        if !usable {
            continue;
        }
        let service = service().await;
        let (responses, _) = respond(&service, &bytes).await;
        let stem = file.trim_start_matches("278/").rsplit_once('.').map_or(file.as_str(), |(s, _)| s).to_owned();
        for (n, response) in responses.iter().enumerate() {
            let name = format!("corpus-{stem}-{n}.x12");
            if let Some(ours) = check_all(&name, response, &mut failures) {
                answered.push(format!("{stem}: {}", outcome_of(&ours)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The corpus requests our validator accepts (see tests/corpus.rs): an emergency admission and
    // a referral without the patient's date of birth, and a reservation from a requester
    // identified by a tax ID instead of an NPI.
    assert_eq!(
        answered,
        [
            "dwai_edi_parser__X217-emergency-admission-request-for-review: AAA 2010B 43",
            "dwai_edi_parser__X217-referral-request-for-review: AAA 2010B 43",
            "dwai_edi_parser__X217-request-for-medical-services-reservation: AAA 2010B 43",
        ]
    );
}

#[tokio::test]
async fn a_pended_case_decided_later_gets_a_notification_response() {
    let service = service().await;
    let path = common::samples_dir().join("x12/278-request-msk-injection-medicare.x12");
    let bytes = std::fs::read(path).unwrap();
    let (_, cases) = respond(&service, &bytes).await;
    let pended = &cases[0];
    assert_eq!(pended.hcr01(), Some("A4"));
    // The reviewer approves the next morning; the notification is written then.
    service.clock().advance(chrono::Duration::hours(20));
    let decided = service.decide(&pended.id, "reviewer-1", None, ReviewDecision::Approve).await.unwrap();
    let later = Outbound { at: now() + chrono::Duration::hours(20), line_break: b"\n".to_vec() };
    let guides = GuideSet::builtin().unwrap();
    let trees = read_trees(bytes.as_slice(), "input", guides).unwrap();
    let set = umgate::mapping::x217::find_request_set(&trees[0], &decided).unwrap();
    let notification = write_notification(&trees[0], set, &decided, &later, &mut Counter::starting_at(900)).unwrap();
    let mut failures = Vec::new();
    let ours = check_all("278-notification-msk-injection-medicare-approved.x12", &notification, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(outcome_of(&ours.unwrap()), "HCR A1 A1");
    let text = String::from_utf8(notification).unwrap();
    let number = decided.authorization_number.clone().unwrap();
    assert!(text.contains(&format!("HCR*A1*{number}~")), "{text}");
    assert!(text.contains("TRN*2*TRC-REQMSK204*9CLEARHOUS~"), "{text}");
    assert!(text.contains("DTP*102*D8*20260305~"), "decided the next day: {text}");
}

#[test]
fn mapping_reads_every_business_value_of_a_request() {
    let bytes = std::fs::read(common::samples_dir().join("x12/278-request-msk-injection-medicaid.x12")).unwrap();
    let trees = read_trees(bytes.as_slice(), "input", GuideSet::builtin().unwrap()).unwrap();
    let request = read_request(trees[0].answerable().next().unwrap()).unwrap();
    assert_eq!(request.member.member_id, "M400000001");
    assert_eq!(request.member.birth_date, day(1985, 9, 9));
    assert_eq!(request.requesting_provider.npi, "1234567893");
    assert_eq!(request.requesting_provider.tin.as_deref(), Some("361234567"));
    assert_eq!(request.requesting_provider.phone.as_deref(), Some("3125550100"));
    assert_eq!(request.requesting_provider.fax.as_deref(), Some("3125550101"));
    assert_eq!(request.requesting_provider.name.as_deref(), Some("MARCUS WELBY"));
    let rendering = request.rendering_provider.unwrap();
    assert_eq!((rendering.npi.as_str(), rendering.address.unwrap().postal_code.as_str()), ("1678901236", "60602"));
    assert_eq!(request.diagnoses, ["M1711"]);
    assert_eq!(request.urgency, umgate::domain::Urgency::Urgent);
    assert_eq!(request.attachments.len(), 1);
    assert_eq!(request.trace_numbers[0].value, "TRC-REQMSK205");
    let line = &request.lines[0];
    assert_eq!((line.service_code.as_str(), line.place_of_service.as_deref()), ("20610", Some("11")));
    assert_eq!((line.service_from, line.service_to), (day(2026, 3, 12), None));
    assert_eq!(line.quantity.map(|q| q.value), Some(1));
}

#[tokio::test]
async fn inquiries_are_answered_from_the_cases() {
    use umgate::mapping::x215::{answer_inquiry, is_inquiry, read_inquiry, write_inquiry_response_interchange};
    let service = service().await;
    let request = std::fs::read(common::samples_dir().join("x12/278-request-oncology-folfox-colon.x12")).unwrap();
    let (_, cases) = respond(&service, &request).await;
    assert_eq!(cases[0].authorization_number.as_deref(), Some("A000000001"));
    let guides = GuideSet::builtin().unwrap();
    let mut failures = Vec::new();
    for (file, expected) in [
        ("278-inquiry-by-certification-number.x12", "HCR A1 A1 A1 A1"),
        ("278-inquiry-by-member-and-dates.x12", "HCR A1 A1 A1 A1"),
        ("278-inquiry-unknown-certification.x12", "AAA 2000E AA"),
    ] {
        let bytes = std::fs::read(common::samples_dir().join("x12").join(file)).unwrap();
        let trees = read_trees(bytes.as_slice(), file, guides).unwrap();
        let mut answers = Vec::new();
        for set in trees[0].answerable().filter(|set| is_inquiry(set)) {
            answers.push((set, answer_inquiry(&read_inquiry(set), &service).await.unwrap()));
        }
        assert_eq!(answers.len(), 1, "{file}");
        let response =
            write_inquiry_response_interchange(&trees[0], &answers, &outbound(), &mut Counter::starting_at(500))
                .unwrap();
        let name = file.replace("278-inquiry-", "278-inquiry-response-");
        if let Some(ours) = check_all(&name, &response, &mut failures) {
            let got = outcome_of(&ours);
            if got != expected {
                failures.push(format!("{file}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A member id alone must not open a member's cases: the inquiry must carry the date of birth and
/// the requester's NPI, and a provider only sees the cases it requested.
#[tokio::test]
async fn inquiries_need_the_birth_date_and_show_only_the_requesters_own_cases() {
    use umgate::mapping::x215::{answer_inquiry, is_inquiry, read_inquiry, write_inquiry_response_interchange};
    let service = service().await;
    let request = std::fs::read(common::samples_dir().join("x12/278-request-oncology-folfox-colon.x12")).unwrap();
    respond(&service, &request).await;
    let base =
        std::fs::read_to_string(common::samples_dir().join("x12/278-inquiry-by-certification-number.x12")).unwrap();
    // Removing a segment means one less in SE01.
    let without = |segment: &str| base.replace(segment, "").replace("SE*14*0001", "SE*13*0001");
    let guides = GuideSet::builtin().unwrap();
    let mut failures = Vec::new();
    for (what, text, expected) in [
        ("no date of birth", without("DMG*D8*19680412*F~\n"), "AAA 2010C 58"),
        ("no requester NPI", base.replace("*WELBY*MARCUS****XX*1234567893~", "*WELBY*MARCUS~"), "AAA 2010B 43"),
        ("another provider", base.replace("XX*1234567893", "XX*1245319599"), "AAA 2000E AA"),
        ("the requester", base.clone(), "HCR A1 A1 A1 A1"),
    ] {
        let trees = read_trees(text.as_bytes(), what, guides).unwrap();
        let mut answers = Vec::new();
        for set in trees[0].answerable().filter(|set| is_inquiry(set)) {
            answers.push((set, answer_inquiry(&read_inquiry(set), &service).await.unwrap()));
        }
        assert_eq!(answers.len(), 1, "{what}: the inquiry must pass validation");
        let response =
            write_inquiry_response_interchange(&trees[0], &answers, &outbound(), &mut Counter::starting_at(500))
                .unwrap();
        match check_with_our_validator(what, &response) {
            Ok(ours) if outcome_of(&ours) == expected => {}
            Ok(ours) => failures.push(format!("{what}: expected {expected}, got {}", outcome_of(&ours))),
            Err(error) => failures.push(error),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One interchange of two groups (two sets, then one) made of sample requests.
fn multi_group_interchange() -> Vec<u8> {
    let body = |file: &str, st02: &str| {
        let text = std::fs::read_to_string(common::samples_dir().join("x12").join(file)).unwrap();
        let segments: Vec<&str> = text.split("~\n").collect();
        let start = segments.iter().position(|s| s.starts_with("ST*")).unwrap();
        let end = segments.iter().position(|s| s.starts_with("SE*")).unwrap();
        let mut set: Vec<String> = segments[start..=end].iter().map(|s| s.to_string()).collect();
        set[0] = set[0].replace("*0001*", &format!("*{st02}*"));
        let last = set.len() - 1;
        set[last] = set[last].replace("*0001", &format!("*{st02}"));
        set.join("~\n")
    };
    let isa =
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260304*0900*^*00501*000000777*0*P*:";
    let text = [
        isa.to_owned(),
        "GS*HI*CLEARHOUSE01*UMGATE*20260304*0900*71*X*005010X217".into(),
        body("278-request-oncology-folfox-colon.x12", "0001"),
        body("278-request-unknown-member.x12", "0002"),
        "GE*2*71".into(),
        "GS*HI*CLINIC02*UMGATE*20260304*0900*72*X*005010X217".into(),
        body("278-request-therapy-msmpt.x12", "0001"),
        "GE*1*72".into(),
        "IEA*2*000000777".into(),
    ]
    .join("~\n")
        + "~\n";
    text.into_bytes()
}

#[tokio::test]
async fn streaming_trees_and_replies_give_the_same_bytes_as_the_batch_writer() {
    use umgate::mapping::reply::ReplyStream;
    use umgate::mapping::tree::{TreeEvent, TreeSegment, TreeStream};
    use umgate::mapping::x217::{GUIDE_278, write_response};

    let input = multi_group_interchange();
    let (batch, _) = respond(&service().await, &input).await;
    assert_eq!(batch.len(), 1);

    // Events as the stream delivers them (kept here only because the test's service is async).
    enum Event {
        Start(umgate::x12::IsaHeader),
        Group(TreeSegment),
        Set(Box<SetTree>),
        End,
    }
    let mut events = Vec::new();
    let mut stream = TreeStream::new(|event: TreeEvent<'_>| {
        events.push(match event {
            TreeEvent::InterchangeStart(header) => Event::Start(header.clone()),
            TreeEvent::GroupStart(gs) => Event::Group(gs.clone()),
            TreeEvent::Set(set) => Event::Set(Box::new(set)),
            TreeEvent::InterchangeEnd(_) => Event::End,
        })
    });
    umgate::validation::validate_stream(input.as_slice(), "input", GuideSet::builtin().unwrap(), &mut stream).unwrap();
    drop(stream);

    let service = service().await;
    let mut numbers = Counter::starting_at(1);
    let mut replies = Vec::new();
    let mut reply = None;
    let mut gs = (String::new(), String::new());
    for event in events {
        match event {
            Event::Start(header) => reply = Some(ReplyStream::new(Vec::new(), header, "HI", GUIDE_278, outbound())),
            Event::Group(segment) => gs = (segment.element(2).to_owned(), segment.element(3).to_owned()),
            Event::Set(set) if is_request(&set) => {
                let outcome = decide(&service, &set).await;
                let decision = outcome.decision();
                let write = |st02: &str| write_response(&set, &decision, st02, now());
                reply.as_mut().unwrap().set(set.group_index, &gs.0, &gs.1, write, &mut numbers).unwrap();
            }
            Event::Set(_) => {}
            Event::End => replies.extend(reply.take().unwrap().finish().unwrap()),
        }
    }
    assert_eq!(replies.len(), 1);
    assert_eq!(String::from_utf8_lossy(&replies[0]), String::from_utf8_lossy(&batch[0]));
    let text = String::from_utf8(replies[0].clone()).unwrap();
    assert!(text.contains("GS*HI*UMGATE*CLINIC02*"), "the second group answers its own sender: {text}");
    assert!(text.contains("GE*2*1~") && text.contains("GE*1*2~") && text.contains("IEA*2*000000001~"), "{text}");
    let mut failures = Vec::new();
    check_with_our_validator("multi-group", &replies[0]).unwrap_or_else(|error| {
        failures.push(error);
        Vec::new()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Synthetic requests (`umgate gen 278`, the benchmark input) all map to case requests, and
/// their answers validate.
#[tokio::test]
async fn synthetic_requests_map_and_their_answers_validate() {
    use umgate::synth::{GenOptions, TransactionKind, generate};
    let mut options = GenOptions::new(TransactionKind::Request278, 200);
    options.per_group = 50;
    let mut bytes = Vec::new();
    generate(&options, &mut bytes).unwrap();
    let guides = GuideSet::builtin().unwrap();
    let interchanges = read_trees(bytes.as_slice(), "synthetic", guides).unwrap();
    let mut mapped = 0;
    for trees in &interchanges {
        for set in trees.answerable().filter(|set| is_request(set)) {
            read_request(set).unwrap_or_else(|error| panic!("set {}: {error}", set.st02));
            mapped += 1;
        }
    }
    assert_eq!(mapped, 200);
    // Not on the roster: every answer is an AAA at 2010C, and every answer interchange validates.
    let (responses, _) = respond(&service().await, &bytes).await;
    assert_eq!(responses.len(), interchanges.len());
    for (n, response) in responses.iter().enumerate() {
        let ours = check_with_our_validator(&format!("synthetic-{n}"), response).unwrap();
        assert_eq!(ours.iter().map(|t| t.sets.len()).sum::<usize>(), 50);
    }
}

/// The cancellation, extension, revision and appeal samples against the cases they name, on one
/// repository: a therapy approval (certification A000000001) is extended, revised (a new case
/// that replaces it once approved), then cancelled, and cancelled again; the retro denial of the
/// medical oncology sample is appealed by its trace (appeals go to the health plan: CT). Each
/// answer validates, is read by x12-types and matches its golden file.
#[tokio::test]
async fn requests_about_earlier_certifications_change_them() {
    let service = service().await;
    let sample = |file: &str| std::fs::read(common::samples_dir().join("x12").join(file)).unwrap();
    let (_, cases) = respond(&service, &sample("278-request-therapy-msmpt.x12")).await;
    let approval = cases[0].clone();
    assert_eq!((approval.hcr01(), approval.authorization_number.as_deref()), (Some("A1"), Some("A000000001")));
    let (_, denied) = respond(&service, &sample("278-request-medical-oncology.x12")).await;
    assert_eq!(denied[0].hcr01(), Some("A3"));

    let mut failures = Vec::new();
    let mut check = |name: &str, response: &[u8], expected: &str, contains: &[&str]| {
        if let Some(ours) = check_all(name, response, &mut failures) {
            let got = outcome_of(&ours);
            if got != expected {
                failures.push(format!("{name}: expected {expected}, got {got}"));
            }
        }
        let text = String::from_utf8_lossy(response);
        for wanted in contains {
            if !text.contains(wanted) {
                failures.push(format!("{name}: no {wanted} in\n{text}"));
            }
        }
    };
    let (responses, _) = respond(&service, &sample("278-request-extension.x12")).await;
    check(
        "278-response-extension-of-approval.x12",
        &responses[0],
        "HCR A1 A1",
        &["HCR*A1*A000000001~", "REF*BB*A000000001~", "-20260601~\nDTP*102*", "REF*NT*C000000001~"],
    );
    assert_eq!(service.case(&approval.id).await.unwrap().approved_to, Some(day(2026, 6, 1)));
    // The same extension again (a resubmission the log did not catch): the same answer, no event.
    let events = service.history(&approval.id).await.unwrap().len();
    let (again, _) = respond(&service, &sample("278-request-extension.x12")).await;
    assert_eq!(again[0], responses[0]);
    assert_eq!(service.history(&approval.id).await.unwrap().len(), events);

    // Past the configured maximum (30 days after the end): refused, "not certified" with the
    // reason code of the rule that refused, the certification unchanged.
    let too_far = String::from_utf8(sample("278-request-extension.x12")).unwrap().replace("20260601", "20260801");
    let (responses, _) = respond(&service, too_far.as_bytes()).await;
    check("278-response-extension-refused.x12", &responses[0], "HCR A3", &["HCR*A3**EX1~", "REF*BB*A000000001~"]);
    assert_eq!(service.case(&approval.id).await.unwrap().approved_to, Some(day(2026, 6, 1)));

    let (responses, revised) = respond(&service, &sample("278-request-revised.x12")).await;
    check("278-response-revision-of-approval.x12", &responses[0], "HCR A4 A4", &["REF*NT*C000000003~"]);
    assert_eq!(revised[0].original_of_update(), Some(&approval.id), "the revision replaces the approval once approved");

    let (responses, _) = respond(&service, &sample("278-request-cancel.x12")).await;
    check("278-response-cancellation-of-approval.x12", &responses[0], "HCR C C", &["HCR*C*A000000001~"]);
    assert_eq!(service.case(&approval.id).await.unwrap().status, umgate::domain::CaseStatus::Cancelled);
    let history = service.history(&approval.id).await.unwrap().len();
    // Cancelling again changes nothing and answers the same.
    let (again, _) = respond(&service, &sample("278-request-cancel.x12")).await;
    assert_eq!(again[0], responses[0]);
    assert_eq!(service.history(&approval.id).await.unwrap().len(), history, "no second effect");
    // Extending a cancelled certification is answered with the certification as it stands.
    let (responses, _) = respond(&service, &sample("278-request-extension.x12")).await;
    assert!(String::from_utf8_lossy(&responses[0]).contains("HCR*C*A000000001~"));

    let (responses, _) = respond(&service, &sample("278-request-appeal.x12")).await;
    check("278-response-appeal-to-health-plan.x12", &responses[0], "HCR CT", &["HCR*CT**AP1~", "TRN*2*TRACE0001*"]);
    assert_eq!(service.case(&denied[0].id).await.unwrap().post_decision.len(), 1, "the appeal is recorded");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A certification is only changed by the provider that requested it, for the member it was
/// issued to: another provider is told it does not exist (AA), another member that it does not
/// match the patient (CI); a request naming none at all is missing it (MA).
#[tokio::test]
async fn only_the_requester_of_a_certification_can_change_it() {
    let service = service().await;
    let sample = |file: &str| std::fs::read_to_string(common::samples_dir().join("x12").join(file)).unwrap();
    respond(&service, sample("278-request-therapy-msmpt.x12").as_bytes()).await;
    let cancel = sample("278-request-cancel.x12");
    let guides = GuideSet::builtin().unwrap();
    let mut failures = Vec::new();
    for (what, text, expected) in [
        ("another provider", cancel.replace("XX*1234567893", "XX*1245319599"), "AAA 2000E AA"),
        (
            "another member",
            cancel.replace("MI*M100000001~\nDMG*D8*19680412", "MI*M000000001~\nDMG*D8*19700101"),
            "AAA 2000E CI",
        ),
        (
            "no certification number nor a known trace",
            cancel.replace("REF*BB*A000000001~\n", "").replace("SE*29*0001", "SE*28*0001"),
            "AAA 2000E AA",
        ),
        (
            "the original's trace instead of its number",
            cancel
                .replace("REF*BB*A000000001~\n", "")
                .replace("SE*29*0001", "SE*28*0001")
                .replace("TRC-REQTHR213*", "TRC-REQTHR206*"),
            "HCR C C",
        ),
    ] {
        let (responses, _) = respond(&service, text.as_bytes()).await;
        assert_eq!(read_trees(text.as_bytes(), what, guides).unwrap()[0].answerable().count(), 1, "{what}: valid");
        match check_with_our_validator(what, &responses[0]) {
            Ok(ours) if outcome_of(&ours) == expected => {}
            Ok(ours) => failures.push(format!("{what}: expected {expected}, got {}", outcome_of(&ours))),
            Err(error) => failures.push(error),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An inquiry about a pended case carries the same decision reason (HCR03) as the 278 response.
#[tokio::test]
async fn inquiries_carry_the_decision_reason_of_the_case() {
    use umgate::mapping::x215::{answer_inquiry, is_inquiry, read_inquiry, write_inquiry_response_interchange};
    let service = service().await;
    let request = std::fs::read(common::samples_dir().join("x12/278-request-msk-injection-medicare.x12")).unwrap();
    let (responses, cases) = respond(&service, &request).await;
    let reason = cases[0].reason_code().unwrap().to_owned();
    assert!(String::from_utf8_lossy(&responses[0]).contains(&format!("HCR*A4**{reason}~")));
    let inquiry = std::fs::read_to_string(common::samples_dir().join("x12/278-inquiry-by-member-and-dates.x12"))
        .unwrap()
        .replace("MI*M100000001~\nDMG*D8*19680412", "MI*M300000001~\nDMG*D8*19480203");
    let trees = read_trees(inquiry.as_bytes(), "inquiry", GuideSet::builtin().unwrap()).unwrap();
    let mut answers = Vec::new();
    for set in trees[0].answerable().filter(|set| is_inquiry(set)) {
        answers.push((set, answer_inquiry(&read_inquiry(set), &service).await.unwrap()));
    }
    let response =
        write_inquiry_response_interchange(&trees[0], &answers, &outbound(), &mut Counter::starting_at(500)).unwrap();
    let ours = check_with_our_validator("inquiry about a pended case", &response).unwrap();
    assert_eq!(outcome_of(&ours), "HCR A4 A4");
    let text = String::from_utf8(response).unwrap();
    assert_eq!(text.matches(&format!("HCR*A4**{reason}~")).count(), 2, "{text}");
}

/// An appeal of a denial whose plan has us review appeals (Cigna therapy: first level, 180 days)
/// re-opens the case: pended again, with the appeal's reason code; found by the original trace.
#[tokio::test]
async fn an_appeal_we_review_reopens_the_denied_case() {
    let service = service().await;
    let request = std::fs::read_to_string(common::samples_dir().join("x12/278-request-therapy-dependent.x12")).unwrap();
    let (_, cases) = respond(&service, request.as_bytes()).await;
    let denial = ReviewDecision::Deny { rationale: "criteria not met".into(), guideline: None };
    let denied = service.decide(&cases[0].id, "reviewer-1", None, denial).await.unwrap();
    assert_eq!(denied.hcr01(), Some("A3"));
    let appeal = request.replace("UM*HS*I*", "UM*HS*2*");
    let (responses, reopened) = respond(&service, appeal.as_bytes()).await;
    assert_eq!(reopened[0].id, denied.id, "the denied case, not a new one");
    let mut failures = Vec::new();
    let ours = check_all("278-response-appeal-reopened.x12", &responses[0], &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(outcome_of(&ours.unwrap()), "HCR A4 A4");
    let reason = service.reason_code("post_decision.appeal").unwrap();
    let text = String::from_utf8_lossy(&responses[0]);
    assert!(text.contains(&format!("HCR*A4**{reason}~")), "{text}");
}
