//! The daemon's Prometheus metrics (`GET /metrics`, OpenMetrics text).
//!
//! Why `prometheus-client` (the Prometheus project's Rust client) rather than the `metrics`
//! facade with its Prometheus exporter: the registry is a value owned by the daemon, not a
//! process-wide recorder, so every test builds its own and reads exact counts; label sets are
//! typed structs whose values are `&'static str` chosen by our code (an HTTP route template, an
//! acknowledgment code, a case status), so no member ID, name or other PHI can ever become a
//! label; and its dependency tree is small.
//!
//! What other layers report goes through the named methods of [`Metrics`] (interchanges,
//! transaction sets, acknowledgments, decisions, queue depths); the HTTP middleware of the
//! daemon records requests. A labelled metric nobody has reported yet is not exported at all (the
//! client writes families with samples only): nothing here is made up.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::CaseStatus;
use crate::pipeline::Disposition;
use crate::storage::queue_depths::QueueDepths;
use crate::validation::{Ack, InterchangeReport};

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where an interchange came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The real-time endpoint (one interchange per HTTP request).
    Http,
    /// A batch file of a trading partner's mailbox, or a batch posted over HTTP.
    Batch,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Batch => "batch",
        }
    }
}

/// What became of an inbound interchange (the transaction log's dispositions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterchangeOutcome {
    /// Processed for the first time and answered.
    Answered,
    /// Seen before with the same bytes: answered again from the log, not processed.
    Resubmitted,
    /// Same sender and ISA13 as an earlier interchange with other bytes: stored, not processed.
    DuplicateControlNumber,
    /// Rejected as a whole (TA1 R, or not an interchange at all).
    Rejected,
}

impl InterchangeOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Resubmitted => "resubmitted",
            Self::DuplicateControlNumber => "duplicate_control_number",
            Self::Rejected => "rejected",
        }
    }
}

/// The transaction set of an inbound ST segment. Anything else is `Other`: labels stay a short,
/// fixed list whatever a sender puts in ST01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionSet {
    /// 278 request for review, or 278 inquiry (005010X217 / X215).
    Request278,
    /// 270 eligibility inquiry (005010X279A1).
    Inquiry270,
    Other,
}

impl TransactionSet {
    /// From ST01.
    pub fn from_st01(st01: &str) -> Self {
        match st01.trim() {
            "278" => Self::Request278,
            "270" => Self::Inquiry270,
            _ => Self::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Request278 => "278",
            Self::Inquiry270 => "270",
            Self::Other => "other",
        }
    }
}

/// The acknowledgment sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckKind {
    /// TA1 (interchange acknowledgment).
    Ta1,
    /// 999 (implementation acknowledgment), one per functional group.
    Ack999,
}

impl AckKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ta1 => "ta1",
            Self::Ack999 => "999",
        }
    }
}

/// The queues whose depth the daemon reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Batch files waiting in the partners' inboxes (all partners).
    MailboxInbox,
    /// Interchanges received and not yet answered (claimed or waiting for a claim).
    PendingInterchanges,
    /// Pended cases waiting for a reviewer.
    Review,
    /// Outbound notifications (later 278 responses) waiting to be sent.
    Notifications,
    /// Timers whose time has come and that are not applied yet (hold and in-progress expiries).
    TimersDue,
}

impl Queue {
    fn as_str(self) -> &'static str {
        match self {
            Self::MailboxInbox => "mailbox_inbox",
            Self::PendingInterchanges => "pending_interchanges",
            Self::Review => "review",
            Self::Notifications => "notifications",
            Self::TimersDue => "timers_due",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InterchangeLabels {
    channel: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ChannelLabels {
    channel: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SetLabels {
    set: &'static str,
    ack: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AckLabels {
    kind: &'static str,
    code: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.5 ms to about 33 s (doubling): a real-time 278 is answered in
/// milliseconds, a batch interchange may take seconds.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// The registry and its metrics. Cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    http_in_flight: Gauge,
    http_connections: Gauge,
    interchanges: Family<InterchangeLabels, Counter>,
    interchange_duration: Histograms<ChannelLabels>,
    transaction_sets: Family<SetLabels, Counter>,
    acknowledgments: Family<AckLabels, Counter>,
    decisions: Family<StatusLabels, Counter>,
    queue_depth: Family<QueueLabels, Gauge>,
    review_queue: Family<StatusLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A new registry with every metric of the daemon registered (names prefixed `umgate_`).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("umgate");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response, by method and route",
            http_duration.clone(),
        );
        let http_in_flight = Gauge::default();
        registry.register("http_requests_in_flight", "HTTP requests being handled now", http_in_flight.clone());
        let http_connections = Gauge::default();
        registry.register("http_open_connections", "Client connections open now", http_connections.clone());
        let interchanges = Family::<InterchangeLabels, Counter>::default();
        registry.register(
            "interchanges",
            "Inbound interchanges, by channel (http, batch) and outcome",
            interchanges.clone(),
        );
        let interchange_duration: Histograms<ChannelLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "interchange_duration_seconds",
            "Time from an interchange's receipt to its answers being stored, by channel",
            interchange_duration.clone(),
        );
        let transaction_sets = Family::<SetLabels, Counter>::default();
        registry.register(
            "transaction_sets",
            "Inbound transaction sets, by set (278, 270, other) and acknowledgment code (IK501: A, E, R)",
            transaction_sets.clone(),
        );
        let acknowledgments = Family::<AckLabels, Counter>::default();
        registry.register(
            "acknowledgments",
            "Acknowledgments sent, by kind (ta1, 999) and code (TA104 or AK901: A, E, P, R)",
            acknowledgments.clone(),
        );
        let decisions = Family::<StatusLabels, Counter>::default();
        registry.register("decisions", "Case decisions made, by resulting case status", decisions.clone());
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register("queue_depth", "Items waiting, by queue", queue_depth.clone());
        let review_queue = Family::<StatusLabels, Gauge>::default();
        registry.register("review_queue_cases", "Cases waiting for a reviewer, by case status", review_queue.clone());
        Self {
            inner: Arc::new(Inner {
                registry,
                http_requests,
                http_duration,
                http_in_flight,
                http_connections,
                interchanges,
                interchange_duration,
                transaction_sets,
                acknowledgments,
                decisions,
                queue_depth,
                review_queue,
            }),
        }
    }

    /// The OpenMetrics text of every metric ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }

    /// One HTTP request answered. `route` is the route template the router matched (`/readyz`,
    /// never a raw path with identifiers in it) or `unmatched`.
    pub fn http_request(&self, method: &axum::http::Method, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let labels = HttpLabels { method, route: route.to_owned(), status };
        self.inner.http_requests.get_or_create(&labels).inc();
        self.inner
            .http_duration
            .get_or_create(&RouteLabels { method, route: labels.route })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn request_in_flight(&self) -> InFlight {
        InFlight::new(self.inner.http_in_flight.clone())
    }

    /// Counts an open client connection until the guard is dropped.
    pub fn connection_open(&self) -> InFlight {
        InFlight::new(self.inner.http_connections.clone())
    }

    /// Requests being handled now.
    pub fn requests_in_flight(&self) -> i64 {
        self.inner.http_in_flight.get()
    }

    /// Client connections open now.
    pub fn open_connections(&self) -> i64 {
        self.inner.http_connections.get()
    }

    /// One inbound interchange done with, and how long it took from receipt to stored answers.
    pub fn interchange(&self, channel: Channel, outcome: InterchangeOutcome, elapsed: Duration) {
        let labels = InterchangeLabels { channel: channel.as_str(), outcome: outcome.as_str() };
        self.inner.interchanges.get_or_create(&labels).inc();
        self.inner
            .interchange_duration
            .get_or_create(&ChannelLabels { channel: channel.as_str() })
            .observe(elapsed.as_secs_f64());
    }

    /// One inbound transaction set and its acknowledgment code (IK501).
    pub fn transaction_set(&self, set: TransactionSet, ack: Ack) {
        self.inner.transaction_sets.get_or_create(&SetLabels { set: set.as_str(), ack: ack.code() }).inc();
    }

    /// One acknowledgment sent: a TA1 with its TA104, or a 999 with its AK901.
    pub fn acknowledgment(&self, kind: AckKind, code: Ack) {
        self.inner.acknowledgments.get_or_create(&AckLabels { kind: kind.as_str(), code: code.code() }).inc();
    }

    /// One decision on a case: the status it left the case in.
    pub fn decision(&self, status: CaseStatus) {
        self.inner.decisions.get_or_create(&StatusLabels { status: status.as_str() }).inc();
    }

    /// The depth of a queue, as last measured.
    pub fn set_queue_depth(&self, queue: Queue, depth: u64) {
        let depth = i64::try_from(depth).unwrap_or(i64::MAX);
        self.inner.queue_depth.get_or_create(&QueueLabels { queue: queue.as_str() }).set(depth);
    }
}

impl Metrics {
    /// Everything one inbound interchange produced, once it is done with: the interchange by
    /// outcome and its latency (`elapsed`, from receipt to stored answers), its transaction sets by
    /// IK501 code (when processed now, not when answered again from the log), the acknowledgments
    /// sent by kind and code (TA104 of a TA1, AK901 of each group of a 999), and one decision per
    /// status in `decided` (the cases it created or changed, as they stand after it).
    pub fn observe_interchange(
        &self,
        channel: Channel,
        report: &InterchangeReport,
        disposition: &Disposition,
        decided: &[CaseStatus],
        elapsed: Duration,
    ) {
        let (outcome, answers) = match disposition {
            Disposition::Answered { answers, .. } if report.rejected() => (InterchangeOutcome::Rejected, answers),
            Disposition::Answered { answers, .. } => (InterchangeOutcome::Answered, answers),
            Disposition::Resubmitted { answers, .. } => (InterchangeOutcome::Resubmitted, answers),
            Disposition::DuplicateControlNumber { answers, .. } => {
                (InterchangeOutcome::DuplicateControlNumber, answers)
            }
        };
        self.interchange(channel, outcome, elapsed);
        if matches!(disposition, Disposition::Answered { .. }) {
            for set in report.groups.iter().flat_map(|group| &group.sets) {
                self.transaction_set(TransactionSet::from_st01(&set.st01), set.ack);
            }
        }
        for answer in answers {
            match answer.kind.as_str() {
                // A duplicate control number is refused with a TA1 R whatever its report says.
                "TA1" if outcome == InterchangeOutcome::DuplicateControlNumber => {
                    self.acknowledgment(AckKind::Ta1, Ack::Rejected);
                }
                "TA1" => {
                    if let Some(ta1) = report.ta1 {
                        self.acknowledgment(AckKind::Ta1, ta1.ack);
                    }
                }
                "999" => {
                    for group in &report.groups {
                        self.acknowledgment(AckKind::Ack999, group.ack);
                    }
                }
                _ => {}
            }
        }
        for status in decided {
            self.decision(*status);
        }
    }

    /// Sets the queue-depth gauges from one sample of the store. `review` pairs each status of
    /// the review queue with its `depths.cases_by_status` entry (same order).
    pub fn observe_queue_depths(&self, review: &[CaseStatus], depths: &QueueDepths) {
        let mut waiting = 0i64;
        for (status, (_, count)) in review.iter().zip(&depths.cases_by_status) {
            waiting = waiting.saturating_add(*count);
            self.inner.review_queue.get_or_create(&StatusLabels { status: status.as_str() }).set(*count);
        }
        let depth = |count: i64| u64::try_from(count).unwrap_or(0);
        self.set_queue_depth(Queue::Review, depth(waiting));
        self.set_queue_depth(Queue::Notifications, depth(depths.notifications_pending));
        self.set_queue_depth(Queue::TimersDue, depth(depths.timers_due));
        self.set_queue_depth(Queue::PendingInterchanges, depth(depths.interchanges_pending));
    }
}

/// The standard methods by name; any other is `other` (labels stay a fixed list).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::CONNECT,
        Method::TRACE,
    ]
    .into_iter()
    .zip(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"])
    .find_map(|(known, name)| (known == method).then_some(name))
    .unwrap_or("other")
}

/// Decrements its gauge when dropped.
#[derive(Debug)]
pub struct InFlight {
    gauge: Gauge,
}

impl InFlight {
    fn new(gauge: Gauge) -> Self {
        gauge.inc();
        Self { gauge }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|line| line.starts_with(prefix))
    }

    #[test]
    fn named_counters_appear_with_their_labels() {
        let metrics = Metrics::new();
        metrics.interchange(Channel::Batch, InterchangeOutcome::Answered, Duration::from_millis(3));
        metrics.interchange(Channel::Batch, InterchangeOutcome::Answered, Duration::from_millis(4));
        metrics.transaction_set(TransactionSet::from_st01("278"), Ack::Accepted);
        metrics.transaction_set(TransactionSet::from_st01("837"), Ack::Rejected);
        metrics.acknowledgment(AckKind::Ack999, Ack::PartiallyAccepted);
        metrics.acknowledgment(AckKind::Ta1, Ack::Rejected);
        metrics.decision(CaseStatus::Pended);
        metrics.set_queue_depth(Queue::Review, 7);
        metrics.set_queue_depth(Queue::Review, 5);
        let text = metrics.encode();
        let expect = [
            r#"umgate_interchanges_total{channel="batch",outcome="answered"} 2"#,
            r#"umgate_interchange_duration_seconds_count{channel="batch"} 2"#,
            r#"umgate_transaction_sets_total{set="278",ack="A"} 1"#,
            r#"umgate_transaction_sets_total{set="other",ack="R"} 1"#,
            r#"umgate_acknowledgments_total{kind="999",code="P"} 1"#,
            r#"umgate_acknowledgments_total{kind="ta1",code="R"} 1"#,
            r#"umgate_decisions_total{status="pended"} 1"#,
            r#"umgate_queue_depth{queue="review"} 5"#,
        ];
        for line in expect {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    fn set(st01: &str, ack: Ack) -> crate::validation::SetReport {
        crate::validation::SetReport {
            st01: st01.into(),
            st02: "0001".into(),
            st03: String::new(),
            guide: String::new(),
            transaction: String::new(),
            ack,
            codes: Vec::new(),
            errors: Vec::new(),
            business_unit: None,
            segment_count: 2,
        }
    }

    fn report(ta1: Option<Ack>, groups: &[(Ack, Vec<crate::validation::SetReport>)]) -> InterchangeReport {
        InterchangeReport {
            file: "batch.x12".into(),
            offset: 0,
            header: None,
            ta1: ta1.map(|ack| crate::validation::Ta1Result { ack, note: crate::x12::Ta1Note::NoError }),
            groups: groups
                .iter()
                .map(|(ack, sets)| crate::validation::GroupReport {
                    gs01: "HI".into(),
                    gs02: "S".into(),
                    gs03: "R".into(),
                    gs06: "1".into(),
                    gs08: "005010X217".into(),
                    ack: *ack,
                    codes: Vec::new(),
                    sets: sets.clone(),
                    declared_sets: None,
                })
                .collect(),
            problem: None,
            acknowledgment: false,
        }
    }

    fn answer(kind: &str) -> crate::pipeline::Answer {
        crate::pipeline::Answer { kind: kind.into(), control_number: "000000001".into(), bytes: Vec::new() }
    }

    #[test]
    fn an_interchange_is_observed_with_its_sets_acknowledgments_and_decisions() {
        let metrics = Metrics::new();
        let processed = report(
            Some(Ack::Accepted),
            &[
                (Ack::PartiallyAccepted, vec![set("278", Ack::Accepted), set("278", Ack::Rejected)]),
                (Ack::Accepted, vec![set("270", Ack::Accepted)]),
            ],
        );
        let answered = Disposition::Answered {
            answers: vec![answer("TA1"), answer("999"), answer("278")],
            new_cases: 1,
            decided: vec![],
        };
        let decided = [CaseStatus::Approved, CaseStatus::Pended];
        metrics.observe_interchange(Channel::Http, &processed, &answered, &decided, Duration::from_millis(2));
        // Answered again from the log: counted as sent, sets not counted twice.
        let again = Disposition::Resubmitted { answers: vec![answer("999")], first_received: chrono::Utc::now() };
        metrics.observe_interchange(Channel::Http, &processed, &again, &[], Duration::from_millis(1));
        let duplicate =
            Disposition::DuplicateControlNumber { original_received: chrono::Utc::now(), answers: vec![answer("TA1")] };
        metrics.observe_interchange(Channel::Batch, &report(None, &[]), &duplicate, &[], Duration::ZERO);
        let unreadable = InterchangeReport { problem: Some("not X12".into()), ..report(Some(Ack::Rejected), &[]) };
        let rejected = Disposition::Answered { answers: vec![answer("TA1")], new_cases: 0, decided: vec![] };
        metrics.observe_interchange(Channel::Batch, &unreadable, &rejected, &[], Duration::ZERO);
        let text = metrics.encode();
        let expect = [
            r#"umgate_interchanges_total{channel="http",outcome="answered"} 1"#,
            r#"umgate_interchanges_total{channel="http",outcome="resubmitted"} 1"#,
            r#"umgate_interchanges_total{channel="batch",outcome="duplicate_control_number"} 1"#,
            r#"umgate_interchanges_total{channel="batch",outcome="rejected"} 1"#,
            r#"umgate_interchange_duration_seconds_count{channel="http"} 2"#,
            r#"umgate_interchange_duration_seconds_bucket{le="0.002",channel="http"} 2"#,
            r#"umgate_transaction_sets_total{set="278",ack="A"} 1"#,
            r#"umgate_transaction_sets_total{set="278",ack="R"} 1"#,
            r#"umgate_transaction_sets_total{set="270",ack="A"} 1"#,
            r#"umgate_acknowledgments_total{kind="ta1",code="A"} 1"#,
            r#"umgate_acknowledgments_total{kind="ta1",code="R"} 2"#,
            r#"umgate_acknowledgments_total{kind="999",code="P"} 2"#,
            r#"umgate_acknowledgments_total{kind="999",code="A"} 2"#,
            r#"umgate_decisions_total{status="approved"} 1"#,
            r#"umgate_decisions_total{status="pended"} 1"#,
        ];
        for line in expect {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
        }
    }

    #[test]
    fn queue_depths_are_set_from_a_sample() {
        let metrics = Metrics::new();
        let depths = QueueDepths {
            cases_by_status: vec![("pended".into(), 4)],
            notifications_pending: 2,
            timers_due: 1,
            interchanges_pending: 0,
        };
        metrics.observe_queue_depths(&[CaseStatus::Pended], &depths);
        let text = metrics.encode();
        for line in [
            r#"umgate_review_queue_cases{status="pended"} 4"#,
            r#"umgate_queue_depth{queue="review"} 4"#,
            r#"umgate_queue_depth{queue="notifications"} 2"#,
            r#"umgate_queue_depth{queue="timers_due"} 1"#,
            r#"umgate_queue_depth{queue="pending_interchanges"} 0"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
        }
    }

    #[test]
    fn unreported_metrics_are_not_made_up() {
        let text = Metrics::new().encode();
        assert!(!text.contains("umgate_decisions"), "{text}");
        assert!(line_of(&text, "umgate_queue_depth").is_none(), "{text}");
        assert!(line_of(&text, "umgate_http_requests_in_flight 0").is_some(), "{text}");
    }

    #[test]
    fn http_requests_are_counted_by_method_route_and_status() {
        let metrics = Metrics::new();
        metrics.http_request(&axum::http::Method::GET, "/readyz", 200, Duration::from_micros(300));
        metrics.http_request(
            &axum::http::Method::from_bytes(b"BREW").unwrap_or_default(),
            "unmatched",
            404,
            Duration::ZERO,
        );
        let text = metrics.encode();
        assert!(text.contains(r#"umgate_http_requests_total{method="GET",route="/readyz",status="200"} 1"#), "{text}");
        assert!(
            text.contains(r#"umgate_http_requests_total{method="other",route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"umgate_http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/readyz"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn in_flight_guards_count_down_when_dropped() {
        let metrics = Metrics::new();
        let first = metrics.request_in_flight();
        let second = metrics.request_in_flight();
        assert_eq!(metrics.requests_in_flight(), 2);
        drop(first);
        assert_eq!(metrics.requests_in_flight(), 1);
        drop(second);
        assert_eq!(metrics.requests_in_flight(), 0);
        let connection = metrics.connection_open();
        assert_eq!(metrics.open_connections(), 1);
        drop(connection);
        assert_eq!(metrics.open_connections(), 0);
    }
}
