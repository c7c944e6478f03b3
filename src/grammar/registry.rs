//! The set of guides the gateway knows. The files of `grammars/` are compiled into the binary so
//! that `umgate` runs from any directory; `GuideSet::load_dir` reads another set for tests.

use std::path::Path;
use std::sync::OnceLock;

use super::compile::{GrammarError, compile_guide};
use super::model::{Guide, Transaction};

/// The guide files shipped with the binary: (file name, text).
const BUILTIN: &[(&str, &str)] = &[
    ("005010X217.yaml", include_str!("../../grammars/005010X217.yaml")),
    ("005010X215.yaml", include_str!("../../grammars/005010X215.yaml")),
    ("005010X279A1.yaml", include_str!("../../grammars/005010X279A1.yaml")),
    ("005010X231A1.yaml", include_str!("../../grammars/005010X231A1.yaml")),
];

#[derive(Debug, Clone)]
pub struct GuideSet {
    guides: Vec<Guide>,
}

impl GuideSet {
    /// The guides compiled into the binary, compiled once per process.
    pub fn builtin() -> Result<&'static GuideSet, &'static GrammarError> {
        static SET: OnceLock<Result<GuideSet, GrammarError>> = OnceLock::new();
        SET.get_or_init(|| {
            let guides = BUILTIN
                .iter()
                .map(|(file, text)| compile_guide(&format!("grammars/{file}"), text))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(GuideSet { guides })
        })
        .as_ref()
    }

    /// Every `*.yaml` file of a directory.
    pub fn load_dir(dir: &Path) -> Result<GuideSet, GrammarError> {
        let mut guides = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, &e))?;
        let mut paths: Vec<_> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
            guides.push(compile_guide(&path.display().to_string(), &text)?);
        }
        Ok(GuideSet { guides })
    }

    pub fn guides(&self) -> &[Guide] {
        &self.guides
    }

    pub fn guide(&self, id: &str) -> Option<&Guide> {
        self.guides.iter().find(|guide| guide.id == id || guide.aliases.iter().any(|alias| alias == id))
    }

    /// The transactions of a guide for one transaction set identifier (ST01).
    pub fn transactions<'a>(&'a self, guide_id: &str, st01: &'a str) -> impl Iterator<Item = &'a Transaction> + 'a {
        self.guide(guide_id)
            .into_iter()
            .flat_map(|guide| guide.transactions.iter())
            .filter(move |tx| tx.transaction_set == st01)
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> GrammarError {
    GrammarError::Invalid { file: path.display().to_string(), path: String::new(), message: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_guide_compiles() {
        let set = GuideSet::builtin().unwrap_or_else(|error| panic!("{error}"));
        for id in ["005010X217", "005010X215", "005010X279A1", "005010X231A1"] {
            assert!(set.guide(id).is_some(), "guide {id} is missing");
        }
    }
}
