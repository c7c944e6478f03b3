//! The mailbox directories and the file moves that make them safe to share with partners.
//!
//! Layout: `<data dir>/mailboxes/<partner>/{inbox,outbox,archive,failed}` plus `.work/`, where a
//! claimed file waits while its job is open (one directory per job, beside its staged answers).
//! Why renames: a rename within one file system is atomic, so a partner polling the outbox never
//! sees half an answer (each is written under a temporary name, flushed to disk, then renamed),
//! and two instances claiming the same inbox file cannot both win. Files in the inbox whose names
//! start with `.` or end in `.part` or `.tmp` are uploads in progress and are left alone: a partner
//! writes elsewhere or under such a name, then renames the file into `inbox/`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The directories of one partner.
#[derive(Debug, Clone)]
pub struct PartnerDirs {
    pub inbox: PathBuf,
    pub outbox: PathBuf,
    pub archive: PathBuf,
    pub failed: PathBuf,
    /// Claimed files and staged answers of open jobs.
    pub work: PathBuf,
}

/// `<data dir>/mailboxes`.
#[derive(Debug, Clone)]
pub struct Tree {
    root: PathBuf,
}

impl Tree {
    pub fn new(data_dir: &Path) -> Tree {
        Tree { root: data_dir.join("mailboxes") }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn partner(&self, key: &str) -> PartnerDirs {
        let base = self.root.join(key);
        PartnerDirs {
            inbox: base.join("inbox"),
            outbox: base.join("outbox"),
            archive: base.join("archive"),
            failed: base.join("failed"),
            work: base.join(".work"),
        }
    }

    /// Where later 278 responses are written before they are routed to a partner's outbox.
    pub fn notifications(&self) -> PathBuf {
        self.root.join(".notifications")
    }

    /// Later 278 responses whose interchange came from no mailbox job.
    pub fn unrouted(&self) -> PathBuf {
        self.root.join(".notifications").join("unrouted")
    }

    /// Creates every partner's directories (those that exist are kept).
    pub fn create(&self, keys: &[String]) -> std::io::Result<()> {
        for key in keys {
            let dirs = self.partner(key);
            for dir in [&dirs.inbox, &dirs.outbox, &dirs.archive, &dirs.failed, &dirs.work] {
                std::fs::create_dir_all(dir)?;
            }
        }
        std::fs::create_dir_all(self.unrouted())
    }
}

/// A partner key that is safe as one directory name.
pub fn valid_partner_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !key.starts_with('-')
}

/// An upload still being written: left alone until renamed.
pub fn in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp")
}

/// The regular files of `dir` that are ready to claim, by name.
pub fn ready_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        if in_progress(&name) || !entry.file_type().map(|kind| kind.is_file()).unwrap_or(false) {
            continue;
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Flushes a directory's entries (a rename into it survives a crash).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Size and lowercase hex SHA-256 of a file, read in blocks.
pub fn size_and_sha256(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 1 << 16];
    let mut size = 0_u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((size, hex(&hasher.finalize())))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` at `path` through a temporary name: flushed, renamed, directory flushed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    sync_dir(dir)
}

/// Moves the staged answers in `staged` into `outbox`, by name: each flushed, then renamed (an
/// answer of the same name is replaced: a re-run writes the same bytes). Returns their names.
pub fn publish(staged: &Path, outbox: &Path) -> std::io::Result<Vec<String>> {
    let mut names = match std::fs::read_dir(staged) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| !in_progress(name))
            .collect::<Vec<_>>(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error),
    };
    names.sort();
    for name in &names {
        let from = staged.join(name);
        File::open(&from)?.sync_all()?;
        std::fs::rename(&from, outbox.join(name))?;
    }
    if !names.is_empty() {
        sync_dir(outbox)?;
    }
    Ok(names)
}

/// `dir/name`, or `dir/name.<suffix>` when `name` is taken (a second file of the same name).
pub fn free_name(dir: &Path, name: &str, suffix: &str) -> PathBuf {
    let plain = dir.join(name);
    if plain.exists() { dir.join(format!("{name}.{suffix}")) } else { plain }
}

/// Renames `from` to `to` and flushes `to`'s directory. A missing `from` is not an error when
/// `to` exists (an earlier attempt moved it).
pub fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => sync_dir(to.parent().unwrap_or(Path::new("."))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && to.exists() => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_in_progress_are_left_alone() {
        for name in [".batch.x12", "batch.x12.part", "batch.tmp"] {
            assert!(in_progress(name), "{name}");
        }
        assert!(!in_progress("batch.x12"));
    }

    #[test]
    fn partner_keys_are_one_safe_directory_name() {
        assert!(valid_partner_key("demo") && valid_partner_key("clearing_house-2"));
        for bad in ["", "..", "a/b", "-x", "d e"] {
            assert!(!valid_partner_key(bad), "{bad}");
        }
    }

    #[test]
    fn staged_answers_are_published_by_name_and_replace_older_copies() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let (staged, outbox) = (dir.path().join("staged"), dir.path().join("outbox"));
        std::fs::create_dir_all(&staged)?;
        std::fs::create_dir_all(&outbox)?;
        std::fs::write(staged.join("b.x12"), b"B")?;
        std::fs::write(staged.join("a.x12"), b"A")?;
        std::fs::write(outbox.join("a.x12"), b"old")?;
        assert_eq!(publish(&staged, &outbox)?, vec!["a.x12".to_owned(), "b.x12".to_owned()]);
        assert_eq!(std::fs::read(outbox.join("a.x12"))?, b"A");
        assert_eq!(ready_files(&staged)?, Vec::<String>::new());
        Ok(())
    }
}
