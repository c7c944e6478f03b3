//! The UM scenario table, runnable against any `CaseRepository` (memory here; SQLite and
//! PostgreSQL in the storage tests): each row names the plan, line of business and program, the
//! request, the clock steps and the expected status, HCR01 and dates, all against the sample
//! configuration `samples/umgate.toml`.
//!
//! Use: `scenarios::run_all(&factory).await`, where `factory` is a [`RepositoryFactory`] (it
//! opens a fresh repository per row and can close and reopen it for `Step::Restart`), returns one
//! `ScenarioResult` per row; `scenarios::assert_all_pass(&results)` fails with every failing row.
#![allow(dead_code, clippy::unwrap_used)]

mod table;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use umgate::domain::rules::IntakeRejection;
use umgate::domain::{
    Actor, Attachment, Case, CaseRepository, CaseRequest, CaseService, CaseStatus, DomainError, HoldRequest,
    LineOfBusiness, ManualClock, MemberRecord, MemberRef, P2pEligibility, PendReason, PostDecisionAnswer, Quantity,
    QuantityKind, RequestCategory, RequestedLine, RequestingProvider, ReviewDecision, Submission, UmPolicy, Urgency,
};

pub use table::scenarios;

/// The sample configuration as the domain sees it.
pub fn sample_policy() -> Arc<dyn UmPolicy> {
    // UMGATE_SCENARIO_CONFIG points the table at another configuration (the default is the sample).
    let root = match std::env::var_os("UMGATE_SCENARIO_CONFIG") {
        Some(path) => std::path::PathBuf::from(path),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml"),
    };
    umgate::domain::policy_adapter::load_sample(&root).unwrap_or_else(|error| panic!("sample configuration: {error}"))
}

/// The scenario clock starts on Wednesday 2026-03-04 at 14:00 UTC (no holiday nearby).
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 14, 0, 0).single().unwrap()
}

/// When the date of service lies relative to the submission day.
#[derive(Debug, Clone, Copy)]
pub enum Dos {
    Today,
    InDays(u64),
    CalendarDaysAgo(u64),
    BusinessDaysAgo(u32),
}

/// A request of a row.
#[derive(Debug, Clone)]
pub struct Req {
    pub codes: Vec<(&'static str, Option<Quantity>)>,
    pub diagnoses: Vec<&'static str>,
    pub place_of_service: &'static str,
    pub urgency: Urgency,
    pub documents: usize,
    pub dos: Dos,
    pub npi: &'static str,
    /// Send a member id that is not on the roster.
    pub unknown_member: bool,
    /// Requested period length in days after the date of service (`service_to`).
    pub until_days: Option<u64>,
}

pub fn req(codes: &[&'static str], diagnoses: &[&'static str]) -> Req {
    Req {
        codes: codes.iter().map(|code| (*code, None)).collect(),
        diagnoses: diagnoses.to_vec(),
        place_of_service: "11",
        urgency: Urgency::Standard,
        documents: 0,
        dos: Dos::Today,
        npi: "1234567893",
        unknown_member: false,
        until_days: None,
    }
}

impl Req {
    pub fn pos(mut self, place: &'static str) -> Self {
        self.place_of_service = place;
        self
    }
    pub fn urgent(mut self, documents: usize) -> Self {
        self.urgency = Urgency::Urgent;
        self.documents = documents;
        self
    }
    pub fn dos(mut self, dos: Dos) -> Self {
        self.dos = dos;
        self
    }
    pub fn until(mut self, days: u64) -> Self {
        self.until_days = Some(days);
        self
    }
    pub fn visits(mut self, visits: u32) -> Self {
        for code in &mut self.codes {
            code.1 = Some(Quantity { kind: QuantityKind::Visits, value: visits });
        }
        self
    }
}

/// What a row expects of the current case.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Option<CaseStatus>,
    pub hcr01: Option<&'static str>,
    pub pend: Option<&'static str>,
    /// Approved period end minus the determination date, in days (inclusive range).
    pub validity_days: Option<(i64, i64)>,
    /// Decision due minus received, in hours.
    pub due_in_hours: Option<i64>,
    pub urgency: Option<Urgency>,
    /// A rule that must appear in the case history.
    pub rule: Option<&'static str>,
    pub on_original_submission: Option<bool>,
    pub overdue: Option<bool>,
    pub authorization_number: Option<bool>,
    /// (line index, approved quantity value).
    pub approved_quantity: Option<(usize, u32)>,
}

pub fn expect(status: CaseStatus, hcr01: &'static str) -> Expect {
    Expect { status: Some(status), hcr01: Some(hcr01), ..Default::default() }
}

impl Expect {
    pub fn pend(mut self, reason: &'static str) -> Self {
        self.pend = Some(reason);
        self
    }
    pub fn validity_days(mut self, min: i64, max: i64) -> Self {
        self.validity_days = Some((min, max));
        self
    }
    pub fn due_in_hours(mut self, hours: i64) -> Self {
        self.due_in_hours = Some(hours);
        self
    }
    pub fn urgency(mut self, urgency: Urgency) -> Self {
        self.urgency = Some(urgency);
        self
    }
    pub fn rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }
    pub fn on_original_submission(mut self) -> Self {
        self.on_original_submission = Some(true);
        self
    }
    pub fn overdue(mut self, overdue: bool) -> Self {
        self.overdue = Some(overdue);
        self
    }
    pub fn approved_quantity(mut self, line: usize, value: u32) -> Self {
        self.approved_quantity = Some((line, value));
        self
    }
    pub fn authorized(mut self) -> Self {
        self.authorization_number = Some(true);
        self
    }
}

/// One step of a row.
#[derive(Debug, Clone)]
pub enum Step {
    /// Submit; the new case becomes the current case.
    Submit(Req),
    SubmitRejected(Req, IntakeRejection),
    /// Start (in progress) and later `SubmitStarted`.
    Start(Req),
    SubmitStarted,
    /// Authorization update of the current case; the new case becomes current.
    Update(Req),
    Expect(Expect),
    /// Expectation on the case that was current before the last `Submit`/`Update`.
    ExpectPrevious(Expect),
    Decide(ReviewDecision),
    /// The decision is refused with this error (by variant name); the case is unchanged.
    DecideRefused(ReviewDecision, &'static str),
    /// Two reviewers decide the same version at once: exactly one wins, the other gets Conflict.
    ConcurrentDecisions(ReviewDecision, ReviewDecision),
    Hold {
        needed: &'static str,
        if_not_received: ReviewDecision,
    },
    AttachDocument,
    /// A document upload refused with this error (by variant name).
    AttachDocumentRefused(&'static str),
    /// P2P availability with its valid-until day counted in business days after today.
    PeerToPeerValidForBusinessDays(P2pEligibility, u32),
    AdvanceHours(i64),
    /// Set the clock (UTC).
    SetClock(DateTime<Utc>),
    /// The current case comes before the previous one in the review queue.
    ExpectQueuedBeforePrevious,
    AdvanceCalendarDays(u64),
    /// Move to the n-th business day after today at the same time of day.
    AdvanceBusinessDays(u32),
    /// Move to the day after the current case's approved period.
    AdvancePastApproval,
    RunTimers {
        applied: usize,
    },
    /// Close the repository, reopen it through the factory (same data) and build a new service
    /// on it: the current case and its history must read back unchanged.
    Restart,
    /// A reconsideration the window allows: the case re-opens.
    Reconsider,
    /// A refused reconsideration, with the refusal's rule (e.g. `...not_offered` or
    /// `...window_ended`); the refusal must cite the program's reconsideration entry.
    ReconsiderRefused(&'static str),
    Appeal {
        outcome: &'static str,
    },
    PeerToPeer(P2pEligibility),
    Extend {
        days: u64,
        accepted: bool,
    },
    ChooseRegimen(&'static str),
    AnswerPathway {
        criteria_met: bool,
    },
    Cancel,
    /// HCR01 of each line of the current case, in order.
    ExpectLineStatuses(&'static [&'static str]),
}

/// A row of the table.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub plan: &'static str,
    pub lob: LineOfBusiness,
    /// Program entry the request is routed to (`None`: no program / NA).
    pub program: Option<&'static str>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: &'static str,
    pub outcome: Result<(), String>,
}

/// Where a row's repository comes from, and how a restart reopens it.
#[allow(async_fn_in_trait)] // used by the test binaries only, on their own runtime
pub trait RepositoryFactory {
    type Repo: CaseRepository + Clone + 'static;
    /// A fresh, empty repository for one row.
    async fn open(&self) -> Result<Self::Repo, String>;
    /// Closes `repo` and opens the same data again, as a process restart would.
    async fn reopen(&self, repo: Self::Repo) -> Result<Self::Repo, String>;
    /// Releases the repository at the end of the row.
    async fn close(&self, repo: Self::Repo);
}

/// Runs every row, each on a fresh repository from `factory`.
pub async fn run_all<F: RepositoryFactory>(factory: &F) -> Vec<ScenarioResult> {
    let policy = sample_policy();
    let mut results = Vec::new();
    for (index, scenario) in scenarios().into_iter().enumerate() {
        let outcome = run_scenario(&policy, &scenario, index, factory).await;
        results.push(ScenarioResult { name: scenario.name, outcome });
    }
    results
}

/// Fails listing every failing row; prints the table of results either way.
pub fn assert_all_pass(results: &[ScenarioResult]) {
    let mut failures = Vec::new();
    for result in results {
        match &result.outcome {
            Ok(()) => eprintln!("PASS  {}", result.name),
            Err(error) => {
                eprintln!("FAIL  {}: {error}", result.name);
                failures.push(format!("{}: {error}", result.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} scenario(s) failed:\n{}", failures.len(), failures.join("\n"));
}

struct Run<'f, F: RepositoryFactory> {
    policy: Arc<dyn UmPolicy>,
    factory: &'f F,
    repo: F::Repo,
    clock: ManualClock,
    service: CaseService<F::Repo, ManualClock>,
    member_id: String,
    current: Option<Case>,
    previous: Option<Case>,
    plan: &'static str,
}

fn unique_member_id(index: usize) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("S{}{index:03}", nanos % 1_000_000_000_000)
}

/// Runs one row on a fresh repository of `factory`, closed at the end whatever the outcome.
pub async fn run_scenario<F: RepositoryFactory>(
    policy: &Arc<dyn UmPolicy>,
    scenario: &Scenario,
    index: usize,
    factory: &F,
) -> Result<(), String> {
    let repo = factory.open().await?;
    let mut run = match start_run(policy, scenario, index, factory, repo.clone()).await {
        Ok(run) => run,
        Err(error) => {
            factory.close(repo).await;
            return Err(error);
        }
    };
    let mut outcome = Ok(());
    for (number, step) in scenario.steps.iter().enumerate() {
        if let Err(error) = run.step(scenario, step).await {
            outcome = Err(format!("step {} ({step:?}): {error}", number + 1));
            break;
        }
    }
    factory.close(run.repo).await;
    outcome
}

async fn start_run<'f, F: RepositoryFactory>(
    policy: &Arc<dyn UmPolicy>,
    scenario: &Scenario,
    index: usize,
    factory: &'f F,
    repo: F::Repo,
) -> Result<Run<'f, F>, String> {
    let clock = ManualClock::new(start_time());
    let service = CaseService::new(policy.clone(), repo.clone(), clock.clone());
    let member_id = unique_member_id(index);
    let member = MemberRecord {
        member_id: member_id.clone(),
        first_name: "Scenario".into(),
        last_name: "Member".into(),
        birth_date: NaiveDate::from_ymd_opt(1960, 5, 17).unwrap(),
        gender: Some("F".into()),
        plan: scenario.plan.into(),
        line_of_business: scenario.lob,
        coverage_start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        coverage_end: None,
    };
    repo.upsert_member(&member).await.map_err(|e| e.to_string())?;
    // The requesters on file (samples/providers.csv): aetna-better-health-il requires it.
    let providers =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/providers.csv")).map_err(|e| e.to_string())?;
    let loaded =
        umgate::policy::Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/umgate.toml")))
            .map_err(|e| e.to_string())?;
    for row in umgate::providers::ProviderReader::new(providers.as_slice(), &loaded).map_err(|e| e.to_string())? {
        let provider = row.map_err(|e| e.to_string())?.map_err(|problem| problem.reason)?;
        repo.upsert_provider(&provider).await.map_err(|e| e.to_string())?;
    }
    Ok(Run {
        policy: policy.clone(),
        factory,
        repo,
        clock,
        service,
        member_id,
        current: None,
        previous: None,
        plan: scenario.plan,
    })
}

impl<F: RepositoryFactory> Run<'_, F> {
    fn business_days_back(&self, today: NaiveDate, count: u32) -> NaiveDate {
        let mut day = today;
        let mut left = count;
        while left > 0 {
            day = day.pred_opt().unwrap();
            if self.policy.is_business_day(self.plan, day) {
                left -= 1;
            }
        }
        day
    }

    fn request(&self, spec: &Req) -> CaseRequest {
        let today = self.clock_now().date_naive();
        let dos = match spec.dos {
            Dos::Today => today,
            Dos::InDays(days) => today.checked_add_days(Days::new(days)).unwrap(),
            Dos::CalendarDaysAgo(days) => today.checked_sub_days(Days::new(days)).unwrap(),
            Dos::BusinessDaysAgo(days) => self.business_days_back(today, days),
        };
        CaseRequest {
            member: MemberRef {
                member_id: if spec.unknown_member { format!("{}X", self.member_id) } else { self.member_id.clone() },
                birth_date: NaiveDate::from_ymd_opt(1960, 5, 17).unwrap(),
            },
            requesting_provider: RequestingProvider { npi: spec.npi.into(), ..Default::default() },
            rendering_provider: None,
            diagnoses: spec.diagnoses.iter().map(|code| (*code).to_owned()).collect(),
            lines: spec
                .codes
                .iter()
                .map(|(code, quantity)| RequestedLine {
                    service_code: (*code).into(),
                    quantity: *quantity,
                    service_from: dos,
                    service_to: spec.until_days.and_then(|days| dos.checked_add_days(Days::new(days))),
                    place_of_service: Some(spec.place_of_service.into()),
                    bill_type: None,
                    revenue_code: None,
                })
                .collect(),
            urgency: spec.urgency,
            category: RequestCategory::Initial,
            attachments: (0..spec.documents)
                .map(|n| Attachment {
                    report_type: "09".into(),
                    transmission: "EL".into(),
                    control_id: format!("DOC{n}"),
                })
                .collect(),
            trace_numbers: vec![],
        }
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use umgate::domain::Clock;
        self.clock.now()
    }

    fn current(&self) -> Result<&Case, String> {
        self.current.as_ref().ok_or_else(|| "no current case".to_owned())
    }

    async fn refresh(&mut self) -> Result<(), String> {
        if let Some(case) = &self.current {
            self.current = Some(self.service.case(&case.id).await.map_err(|e| e.to_string())?);
        }
        if let Some(case) = &self.previous {
            self.previous = Some(self.service.case(&case.id).await.map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    fn recorded(&mut self, submission: Submission) -> Result<(), String> {
        match submission {
            Submission::Recorded(case) => {
                self.previous = self.current.take();
                self.current = Some(*case);
                Ok(())
            }
            Submission::Rejected(rejection) => Err(format!("unexpected rejection {rejection:?}")),
        }
    }

    async fn step(&mut self, scenario: &Scenario, step: &Step) -> Result<(), String> {
        let err = |e: DomainError| e.to_string();
        match step {
            Step::Submit(spec) => {
                let submission = self.service.submit(self.request(spec)).await.map_err(err)?;
                self.recorded(submission)?;
                let case = self.current()?;
                if case.program.as_deref() != scenario.program {
                    return Err(format!("routed to {:?}, expected {:?}", case.program, scenario.program));
                }
                if case.plan != scenario.plan || case.line_of_business != scenario.lob {
                    return Err(format!("plan {} {:?}", case.plan, case.line_of_business));
                }
            }
            Step::SubmitRejected(spec, expected) => match self.service.submit(self.request(spec)).await.map_err(err)? {
                Submission::Rejected(rejection) if rejection == *expected => {}
                other => return Err(format!("expected rejection {expected:?}, got {other:?}")),
            },
            Step::Start(spec) => {
                let submission = self.service.start(self.request(spec)).await.map_err(err)?;
                self.recorded(submission)?;
            }
            Step::SubmitStarted => {
                let id = self.current()?.id.clone();
                let submission = self.service.submit_started(&id).await.map_err(err)?;
                self.current = None;
                self.recorded(submission)?;
            }
            Step::Update(spec) => {
                let id = self.current()?.id.clone();
                let submission = self.service.update(&id, self.request(spec)).await.map_err(err)?;
                self.recorded(submission)?;
            }
            Step::Expect(expectation) => {
                self.refresh().await?;
                let case = self.current()?.clone();
                self.check(&case, expectation).await?;
            }
            Step::ExpectPrevious(expectation) => {
                self.refresh().await?;
                let case = self.previous.clone().ok_or("no previous case")?;
                self.check(&case, expectation).await?;
            }
            Step::Decide(decision) => {
                let case = self.current()?;
                let decided = self
                    .service
                    .decide(&case.id, "reviewer-1", Some(case.version), decision.clone())
                    .await
                    .map_err(err)?;
                self.current = Some(decided);
            }
            Step::DecideRefused(decision, variant) => {
                let case = self.current()?.clone();
                match self.service.decide(&case.id, "reviewer-1", Some(case.version), decision.clone()).await {
                    Err(error) if format!("{error:?}").starts_with(variant) => {}
                    other => return Err(format!("expected {variant}, got {other:?}")),
                }
                let after = self.service.case(&case.id).await.map_err(err)?;
                if after.version != case.version {
                    return Err("a refused decision changed the case".into());
                }
            }
            Step::ConcurrentDecisions(first, second) => {
                let case = self.current()?.clone();
                let other = CaseService::new(self.policy.clone(), self.repo.clone(), self.clock.clone());
                let (a, b) = tokio::join!(
                    self.service.decide(&case.id, "reviewer-1", Some(case.version), first.clone()),
                    other.decide(&case.id, "reviewer-2", Some(case.version), second.clone()),
                );
                let wins = [&a, &b].iter().filter(|result| result.is_ok()).count();
                let conflicts =
                    [&a, &b].iter().filter(|result| matches!(result, Err(DomainError::Conflict { .. }))).count();
                if wins != 1 || conflicts != 1 {
                    return Err(format!("expected one win and one conflict, got {a:?} / {b:?}"));
                }
                let history = self.service.history(&case.id).await.map_err(err)?;
                let determinations =
                    history.iter().filter(|event| event.kind == umgate::domain::EventKind::Determined).count();
                if determinations != 1 {
                    return Err(format!("{determinations} determinations recorded"));
                }
            }
            Step::Hold { needed, if_not_received } => {
                let id = self.current()?.id.clone();
                let hold =
                    HoldRequest { needed: (*needed).into(), due: None, if_not_received: if_not_received.clone() };
                self.current = Some(self.service.hold(&id, "reviewer-1", hold).await.map_err(err)?);
            }
            Step::AttachDocument => {
                let case = self.current()?.clone();
                let document =
                    Attachment { report_type: "09".into(), transmission: "EL".into(), control_id: "LATE".into() };
                let actor = Actor::Requester(case.request.requesting_provider.npi.clone());
                self.current = Some(self.service.attach_document(&case.id, actor, document).await.map_err(err)?);
            }
            Step::AttachDocumentRefused(variant) => {
                let case = self.current()?.clone();
                let document =
                    Attachment { report_type: "09".into(), transmission: "EL".into(), control_id: "X".into() };
                let actor = Actor::Requester(case.request.requesting_provider.npi.clone());
                match self.service.attach_document(&case.id, actor, document).await {
                    Err(error) if format!("{error:?}").starts_with(variant) => {}
                    other => return Err(format!("expected {variant}, got {other:?}")),
                }
            }
            Step::PeerToPeerValidForBusinessDays(expected, days) => {
                let case = self.current()?.clone();
                let availability = self.service.p2p_availability(&case.id).await.map_err(err)?;
                let mut until = self.clock_now().date_naive();
                let mut left = *days;
                while left > 0 {
                    until = until.succ_opt().unwrap();
                    if self.policy.is_business_day(self.plan, until) {
                        left -= 1;
                    }
                }
                if availability.eligibility != *expected || availability.valid_until != Some(until) {
                    return Err(format!("P2P {availability:?}, expected {expected:?} until {until}"));
                }
            }
            Step::AdvanceHours(hours) => self.clock.advance(Duration::hours(*hours)),
            Step::SetClock(at) => self.clock.set(*at),
            Step::ExpectQueuedBeforePrevious => {
                let current = self.current()?.id.clone();
                let previous = self.previous.as_ref().ok_or("no previous case")?.id.clone();
                let queue = self.service.review_queue(100_000).await.map_err(err)?;
                let position = |id: &str| queue.iter().position(|entry| entry.case.id == id);
                match (position(&current), position(&previous)) {
                    (Some(a), Some(b)) if a < b => {}
                    other => return Err(format!("queue positions (current, previous) = {other:?}")),
                }
            }
            Step::AdvanceCalendarDays(days) => self.clock.advance(Duration::days(*days as i64)),
            Step::AdvanceBusinessDays(count) => {
                let now = self.clock_now();
                let mut day = now.date_naive();
                let mut left = *count;
                while left > 0 {
                    day = day.succ_opt().unwrap();
                    if self.policy.is_business_day(self.plan, day) {
                        left -= 1;
                    }
                }
                self.clock.advance(Duration::days((day - now.date_naive()).num_days()));
            }
            Step::AdvancePastApproval => {
                let end = self.current()?.approved_to.ok_or("no approved period")?;
                let now = self.clock_now();
                let target = end.succ_opt().unwrap();
                self.clock.advance(Duration::days((target - now.date_naive()).num_days()));
            }
            Step::RunTimers { applied } => {
                let count = self.service.run_due_timers(100).await.map_err(err)?;
                if count != *applied {
                    return Err(format!("{count} timer(s) applied, expected {applied}"));
                }
            }
            Step::Restart => {
                let before = match &self.current {
                    Some(case) => Some((
                        self.service.case(&case.id).await.map_err(err)?,
                        self.service.history(&case.id).await.map_err(err)?,
                    )),
                    None => None,
                };
                self.repo = self.factory.reopen(self.repo.clone()).await?;
                self.service = CaseService::new(self.policy.clone(), self.repo.clone(), self.clock.clone());
                if let Some((case, history)) = before {
                    let reread = self.service.case(&case.id).await.map_err(err)?;
                    let history_after = self.service.history(&case.id).await.map_err(err)?;
                    if reread != case || history_after != history {
                        return Err(format!(
                            "the reopened repository lost state: {:?} v{} / {} event(s) before, {:?} v{} / {} after",
                            case.status,
                            case.version,
                            history.len(),
                            reread.status,
                            reread.version,
                            history_after.len()
                        ));
                    }
                }
            }
            Step::Reconsider | Step::ReconsiderRefused(_) => {
                let case = self.current()?.clone();
                let answer = self
                    .service
                    .request_reconsideration(&case.id, &case.request.requesting_provider.npi)
                    .await
                    .map_err(err)?;
                let cites_the_window = |path: &Option<String>| {
                    path.as_deref().is_some_and(|path| {
                        path.starts_with(&format!("plans.{}.", self.plan)) && path.contains(".reconsideration")
                    })
                };
                match (&answer, step) {
                    (PostDecisionAnswer::Accepted(_), Step::Reconsider) => {}
                    (PostDecisionAnswer::Refused(refusal), Step::ReconsiderRefused(rule))
                        if refusal.rule == *rule && cites_the_window(&refusal.config_path) => {}
                    _ => return Err(format!("reconsideration answer {answer:?}")),
                }
            }
            Step::Appeal { outcome } => {
                let case = self.current()?.clone();
                let answer =
                    self.service.request_appeal(&case.id, &case.request.requesting_provider.npi).await.map_err(err)?;
                let name = match &answer {
                    PostDecisionAnswer::Accepted(_) => "accepted",
                    PostDecisionAnswer::ForwardToHealthPlan { .. } => "health_plan",
                    PostDecisionAnswer::Refused(_) => "refused",
                };
                if name != *outcome {
                    return Err(format!("appeal answer {answer:?}"));
                }
            }
            Step::PeerToPeer(expected) => {
                let case = self.current()?.clone();
                let availability = self.service.p2p_availability(&case.id).await.map_err(err)?;
                if availability.eligibility != *expected {
                    return Err(format!("P2P {availability:?}"));
                }
                if *expected != P2pEligibility::NotEligible && availability.reason.is_empty() {
                    return Err("P2P availability without a reason".into());
                }
            }
            Step::Extend { days, accepted } => {
                let case = self.current()?.clone();
                let end = case.approved_to.ok_or("no approved period")?;
                let new_end = end.checked_add_days(Days::new(*days)).unwrap();
                let answer =
                    self.service.extend(&case.id, &case.request.requesting_provider.npi, new_end).await.map_err(err)?;
                match (&answer, accepted) {
                    (PostDecisionAnswer::Accepted(extended), true) if extended.approved_to == Some(new_end) => {}
                    (PostDecisionAnswer::Refused(_), false) => {}
                    _ => return Err(format!("extension answer {answer:?}")),
                }
            }
            Step::ChooseRegimen(name) => {
                let case = self.current()?.clone();
                let chosen = self
                    .service
                    .choose_regimen(&case.id, &case.request.requesting_provider.npi, name)
                    .await
                    .map_err(err)?;
                self.current = Some(chosen);
            }
            Step::AnswerPathway { criteria_met } => {
                let case = self.current()?.clone();
                let answers = vec![("conservative_care_weeks".to_owned(), "6".to_owned())];
                let answered = self
                    .service
                    .answer_pathway(&case.id, &case.request.requesting_provider.npi, answers, *criteria_met)
                    .await
                    .map_err(err)?;
                self.current = Some(answered);
            }
            Step::Cancel => {
                let case = self.current()?.clone();
                let actor = Actor::Requester(case.request.requesting_provider.npi.clone());
                self.current = Some(self.service.cancel(&case.id, actor, "patient declined").await.map_err(err)?);
            }
            Step::ExpectLineStatuses(expected) => {
                self.refresh().await?;
                let actual: Vec<&str> = self.current()?.lines.iter().map(|line| line.status.hcr01()).collect();
                if actual != *expected {
                    return Err(format!("line HCR01 {actual:?}, expected {expected:?}"));
                }
            }
        }
        Ok(())
    }

    async fn check(&self, case: &Case, expect: &Expect) -> Result<(), String> {
        if let Some(status) = expect.status
            && case.status != status
        {
            return Err(format!("status {:?}, expected {status:?} (pend {:?})", case.status, case.pend));
        }
        if let Some(hcr01) = expect.hcr01
            && case.hcr01() != Some(hcr01)
        {
            return Err(format!("HCR01 {:?}, expected {hcr01}", case.hcr01()));
        }
        if let Some(reason) = expect.pend {
            let actual = case.pend.as_ref().map(pend_name);
            if actual != Some(reason) {
                return Err(format!("pend {actual:?}, expected {reason}"));
            }
        }
        if let Some((min, max)) = expect.validity_days {
            let decided = case.determination.as_ref().ok_or("no determination")?.decided_at.date_naive();
            let end = case.approved_to.ok_or("no approved period")?;
            let days = (end - decided).num_days();
            if days < min || days > max {
                return Err(format!("approval valid {days} days ({decided} to {end}), expected {min}..={max}"));
            }
            if case.lines.iter().any(|line| line.approved_to != Some(end) && line.status.hcr01() == "A1") {
                return Err("approved lines without the approved period".into());
            }
        }
        if let Some(hours) = expect.due_in_hours {
            let due = case.decision_due.ok_or("no decision due")?;
            let actual = (due - case.received_at).num_hours();
            if actual != hours {
                return Err(format!("decision due in {actual} h, expected {hours} h"));
            }
        }
        if let Some(urgency) = expect.urgency
            && case.effective_urgency != urgency
        {
            return Err(format!("urgency {:?}, expected {urgency:?}", case.effective_urgency));
        }
        if let Some(on_original) = expect.on_original_submission {
            let actual = case.determination.as_ref().map(|d| d.on_original_submission);
            if actual != Some(on_original) {
                return Err(format!("on original submission {actual:?}"));
            }
        }
        if let Some(overdue) = expect.overdue {
            let queue = self.service.review_queue(10_000).await.map_err(|e| e.to_string())?;
            let entry = queue.iter().find(|entry| entry.case.id == case.id).ok_or("case not in the review queue")?;
            if entry.overdue != overdue {
                return Err(format!("overdue {}, expected {overdue}", entry.overdue));
            }
        }
        if let Some(authorized) = expect.authorization_number {
            let number = case.authorization_number.clone();
            if number.is_some() != authorized {
                return Err(format!("authorization number {number:?}"));
            }
            if let Some(number) = number {
                let found = self.repo.case_by_authorization_number(&number).await.map_err(|e| e.to_string())?;
                if found.map(|found| found.id) != Some(case.id.clone()) {
                    return Err("case not found by its authorization number".into());
                }
            }
        }
        if let Some((line, value)) = expect.approved_quantity {
            let actual = case.lines.get(line).and_then(|line| line.approved_quantity).map(|quantity| quantity.value);
            if actual != Some(value) {
                return Err(format!("line {line} approved quantity {actual:?}, expected {value}"));
            }
        }
        let history = self.service.history(&case.id).await.map_err(|e| e.to_string())?;
        if history.is_empty() {
            return Err("case without history".into());
        }
        if let Some(rule) = expect.rule
            && !history.iter().any(|event| event.rule.as_deref() == Some(rule))
        {
            let rules: Vec<_> = history.iter().filter_map(|event| event.rule.clone()).collect();
            return Err(format!("rule {rule} not in the history {rules:?}"));
        }
        if case.status.hcr01().is_some_and(|code| code != "A4")
            && !matches!(case.status, CaseStatus::Cancelled | CaseStatus::Withdrawn)
            && !history.iter().any(|event| event.kind == umgate::domain::EventKind::Determined)
        {
            return Err("determined case without a determination event".into());
        }
        Ok(())
    }
}

pub fn pend_name(reason: &PendReason) -> &'static str {
    match reason {
        PendReason::ClinicalReview => "clinical_review",
        PendReason::AwaitingPathwayAnswers => "awaiting_pathway_answers",
        PendReason::AwaitingRegimenChoice { .. } => "awaiting_regimen_choice",
        PendReason::PeerToPeerOffered { .. } => "peer_to_peer_offered",
        PendReason::OnHold { .. } => "on_hold",
        PendReason::OverlappingRequest { .. } => "overlapping_request",
    }
}
