//! The UM scenario table (tests/scenarios) on the in-memory repository. Storage runs the same
//! table on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod scenarios;

use scenarios::RepositoryFactory;
use umgate::domain::MemoryRepository;

/// The in-memory run: a restart keeps the same `MemoryRepository` (there is nothing to close and
/// reopen in memory; that is the documented limit of this run, the store runs reopen for real).
struct Memory;

impl RepositoryFactory for Memory {
    type Repo = MemoryRepository;
    async fn open(&self) -> Result<MemoryRepository, String> {
        Ok(MemoryRepository::new())
    }
    async fn reopen(&self, repo: MemoryRepository) -> Result<MemoryRepository, String> {
        Ok(repo)
    }
    async fn close(&self, _repo: MemoryRepository) {}
}

/// A restart that loses everything: the restart row must notice.
struct Amnesic;

impl RepositoryFactory for Amnesic {
    type Repo = MemoryRepository;
    async fn open(&self) -> Result<MemoryRepository, String> {
        Ok(MemoryRepository::new())
    }
    async fn reopen(&self, _repo: MemoryRepository) -> Result<MemoryRepository, String> {
        Ok(MemoryRepository::new())
    }
    async fn close(&self, _repo: MemoryRepository) {}
}

#[tokio::test]
async fn um_scenarios_on_memory_repository() {
    let results = scenarios::run_all(&Memory).await;
    assert!(results.len() >= 20, "the table has {} rows", results.len());
    scenarios::assert_all_pass(&results);
}

#[tokio::test]
async fn the_restart_step_goes_through_the_factory_reopen() {
    let policy = scenarios::sample_policy();
    let (index, row) = scenarios::scenarios()
        .into_iter()
        .enumerate()
        .find(|(_, row)| row.steps.iter().any(|step| matches!(step, scenarios::Step::Restart)))
        .unwrap();
    assert_eq!(scenarios::run_scenario(&policy, &row, index, &Memory).await, Ok(()));
    let lossy = scenarios::run_scenario(&policy, &row, index, &Amnesic).await;
    assert!(lossy.as_ref().is_err_and(|error| error.contains("Restart")), "{lossy:?}");
}

#[test]
fn rule_numbers_are_not_in_the_domain_code() {
    // SPEC section 4 numbers live in samples/, not in src/domain (unit tests excepted).
    fn visit(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain"), &mut files);
    assert!(files.len() > 10);
    // Single digits (2 business days, 5 documents) cannot be told apart from arithmetic; the
    // multi-digit numbers of section 4 can.
    let numbers = ["180", "365", "90", "45", "60", "30", "14", "72", "24", "12", "25"];
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (index, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let words = line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            if let Some(number) = words.into_iter().find(|word| numbers.contains(word)) {
                panic!("{}:{}: rule number {number} in code: {line}", path.display(), index + 1);
            }
        }
    }
}
