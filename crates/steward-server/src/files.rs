//! The data folder is the owner's alone: it holds the database (password hashes,
//! HMAC keys), the master key and the local mailbox (live reset links). Folders
//! Steward creates are 0700 and files 0600, set explicitly rather than left to the
//! umask; existing ones keep their mode, and a loose one is warned about at start.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

/// Mode of the folders Steward creates.
const DIR_MODE: u32 = 0o700;
/// Mode of the files Steward creates.
const FILE_MODE: u32 = 0o600;
/// Permission bits for anyone but the owner.
const OTHERS: u32 = 0o077;

/// Creates `dir` and any missing parent, each readable by the owner only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Open options for a new file readable by the owner only; fails if it exists.
pub fn private_file() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true).mode(FILE_MODE);
    opts
}

/// Writes `bytes` to a new file readable by the owner only.
pub async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tokio::fs::OpenOptions::from(private_file())
        .open(path)
        .await?;
    file.write_all(bytes).await?;
    file.flush().await
}

/// What Steward keeps on disk for this configuration: the data folder, the SQLite
/// database with its `-wal` and `-shm`, the master key and the mailbox folder.
pub fn kept(cfg: &crate::config::Config) -> Vec<PathBuf> {
    let mut paths = vec![cfg.data_dir.clone()];
    if let Some(db) = steward_store::sqlite_file(&cfg.database_url()) {
        for suffix in ["-wal", "-shm"] {
            let mut side = db.clone().into_os_string();
            side.push(suffix);
            paths.push(side.into());
        }
        paths.insert(1, db);
    }
    paths.push(
        cfg.secrets
            .master_key_path
            .clone()
            .unwrap_or_else(|| cfg.data_dir.join("master.key")),
    );
    paths.push(cfg.mailbox_dir());
    paths
}

/// Logs a warning (the path and its mode, never its contents) for each existing path
/// that other local users may read or change.
pub fn warn_if_loose(paths: &[PathBuf]) {
    for path in paths {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & OTHERS != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{mode:o}"),
                "other local users may read or change this; make it the owner's alone (chmod go-rwx)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_folders_and_files_are_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        private_dir(&nested).unwrap();
        for d in [dir.path().join("a"), nested.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        let file = nested.join("f");
        private_file().open(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(private_file().open(&file).is_err(), "never reuses a file");
    }
}
