//! UM rule throughput: the intake decision alone (pure rules over the sample configuration), a
//! submit through the case service on the in-memory repository, and the submit + reviewer
//! decision workflow path, on the in-memory repository, on SQLite and (with DATABASE_URL) on
//! PostgreSQL. Run: `cargo bench --bench rules` (figures in BENCHMARKS.md).
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use umgate::storage::Store;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use umgate::domain::policy_adapter::load_sample;
use umgate::domain::rules::{IntakeInput, evaluate_intake};
use umgate::domain::{
    CaseRequest, CaseService, LineOfBusiness, ManualClock, MemberRecord, MemberRef, MemoryRepository, RequestCategory,
    RequestedLine, RequestingProvider, ReviewDecision, Submission, UmPolicy, Urgency,
};

fn policy() -> Arc<dyn UmPolicy> {
    let path = std::env::var_os("UMGATE_SCENARIO_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml"));
    load_sample(&path).unwrap()
}

fn member(id: usize) -> MemberRecord {
    MemberRecord {
        member_id: format!("B{id:08}"),
        first_name: "Bench".into(),
        last_name: "Member".into(),
        birth_date: NaiveDate::from_ymd_opt(1960, 1, 1).unwrap(),
        gender: None,
        plan: "cigna-commercial".into(),
        line_of_business: LineOfBusiness::Commercial,
        coverage_start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        coverage_end: None,
    }
}

/// A colon cancer request: FOLFOX (preferred, approved at once) or a custom drug set (pended).
fn request(member_id: &str, drugs: &[&str]) -> CaseRequest {
    let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    CaseRequest {
        member: MemberRef { member_id: member_id.into(), birth_date: NaiveDate::from_ymd_opt(1960, 1, 1).unwrap() },
        requesting_provider: RequestingProvider { npi: "1234567893".into(), ..Default::default() },
        rendering_provider: None,
        diagnoses: vec!["C18.9".into()],
        lines: drugs
            .iter()
            .map(|code| RequestedLine {
                service_code: (*code).into(),
                quantity: None,
                service_from: day,
                service_to: None,
                place_of_service: Some("11".into()),
                bill_type: None,
                revenue_code: None,
            })
            .collect(),
        urgency: Urgency::Standard,
        category: RequestCategory::Initial,
        attachments: vec![],
        trace_numbers: vec![],
    }
}

const FOLFOX: &[&str] = &["J9263", "J0640", "J9190"];
const CUSTOM: &[&str] = &["J9263", "J9035"];

fn intake(c: &mut Criterion) {
    let policy = policy();
    let member = member(1);
    let received = Utc.with_ymd_and_hms(2026, 3, 4, 14, 0, 0).unwrap();
    let requests = [request(&member.member_id, FOLFOX), request(&member.member_id, CUSTOM)];
    let mut group = c.benchmark_group("intake");
    group.throughput(Throughput::Elements(1));
    group.bench_function("evaluate_intake (rules only)", |b| {
        let mut next = 0usize;
        b.iter(|| {
            next += 1;
            let input = IntakeInput {
                request: &requests[next % 2],
                member: Some(&member),
                member_cases: &[],
                received_at: received,
                replaces: None,
                requester_on_file: None,
            };
            black_box(evaluate_intake(policy.as_ref(), input).unwrap())
        })
    });
    group.finish();
}

/// Where the service keeps its cases: memory, or a real store.
trait RepositoryFactory {
    type Repository: umgate::domain::CaseRepository;
    fn name(&self) -> String;
    fn make(&self, runtime: &tokio::runtime::Runtime) -> Self::Repository;
}

struct InMemory;

impl RepositoryFactory for InMemory {
    type Repository = MemoryRepository;
    fn name(&self) -> String {
        "MemoryRepository".into()
    }
    fn make(&self, _runtime: &tokio::runtime::Runtime) -> MemoryRepository {
        MemoryRepository::new()
    }
}

/// A fresh SQLite file per measured batch (synchronous=FULL, as in production).
struct Sqlite(tempfile::TempDir);

impl RepositoryFactory for Sqlite {
    type Repository = Store;
    fn name(&self) -> String {
        "SQLite store".into()
    }
    fn make(&self, runtime: &tokio::runtime::Runtime) -> Store {
        let path = self.0.path().join(format!("bench-{}.db", FRESH.fetch_add(1, Ordering::Relaxed)));
        runtime.block_on(Store::connect(&format!("sqlite://{}", path.display()))).unwrap()
    }
}

/// A fresh PostgreSQL database per measured batch, made from DATABASE_URL and dropped at the end.
struct Postgres {
    admin_url: String,
    databases: std::sync::Mutex<Vec<String>>,
}

impl RepositoryFactory for Postgres {
    type Repository = Store;
    fn name(&self) -> String {
        "PostgreSQL store".into()
    }
    fn make(&self, runtime: &tokio::runtime::Runtime) -> Store {
        let name = format!("umgate_bench_{}_{}", std::process::id(), FRESH.fetch_add(1, Ordering::Relaxed));
        runtime.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        });
        self.databases.lock().unwrap().push(name.clone());
        let url = match self.admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("DATABASE_URL names no database"),
        };
        runtime.block_on(Store::connect(&url)).unwrap()
    }
}

impl Postgres {
    fn drop_databases(&self, runtime: &tokio::runtime::Runtime) {
        let names: Vec<String> = self.databases.lock().unwrap().drain(..).collect();
        runtime.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
            for name in names {
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
            }
        });
    }
}

static FRESH: AtomicUsize = AtomicUsize::new(0);

fn service_paths_on<F: RepositoryFactory>(c: &mut Criterion, runtime: &tokio::runtime::Runtime, factory: &F) {
    let policy = policy();
    let start = Utc.with_ymd_and_hms(2026, 3, 4, 14, 0, 0).unwrap();
    let mut group = c.benchmark_group(format!("service on {}", factory.name()));
    group.throughput(Throughput::Elements(1));
    // Each measured batch gets a fresh repository with one member per request.
    let fresh = |iterations: u64| {
        let repository = factory.make(runtime);
        let requests: Vec<_> = (0..iterations as usize)
            .map(|index| {
                let member = member(index);
                runtime.block_on(umgate::domain::CaseRepository::upsert_member(&repository, &member)).unwrap();
                member.member_id
            })
            .collect();
        (CaseService::new(policy.clone(), repository, ManualClock::new(start)), requests)
    };
    group.bench_function("submit (intake + store)", |b| {
        b.iter_custom(|iterations| {
            let (service, members) = fresh(iterations);
            let begin = Instant::now();
            runtime.block_on(async {
                for member_id in &members {
                    black_box(service.submit(request(member_id, FOLFOX)).await.unwrap());
                }
            });
            begin.elapsed()
        })
    });
    group.bench_function("submit + reviewer decision", |b| {
        b.iter_custom(|iterations| {
            let (service, members) = fresh(iterations);
            let begin = Instant::now();
            runtime.block_on(async {
                for member_id in &members {
                    let Submission::Recorded(case) = service.submit(request(member_id, CUSTOM)).await.unwrap() else {
                        panic!("rejected");
                    };
                    black_box(
                        service
                            .decide(&case.id, "reviewer", Some(case.version), ReviewDecision::Approve)
                            .await
                            .unwrap(),
                    );
                }
            });
            begin.elapsed()
        })
    });
    group.finish();
}

fn service_paths(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    service_paths_on(c, &runtime, &InMemory);
    service_paths_on(c, &runtime, &Sqlite(tempfile::tempdir().unwrap()));
    match std::env::var("DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let postgres = Postgres { admin_url, databases: std::sync::Mutex::new(Vec::new()) };
            service_paths_on(c, &runtime, &postgres);
            postgres.drop_databases(&runtime);
        }
        _ => eprintln!("PostgreSQL store benchmark skipped: set DATABASE_URL=postgres://... to run it"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = intake, service_paths
}
criterion_main!(benches);
