//! The data folder on disk holds password hashes, keys and live reset links:
//! other local users of the machine may not read it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use steward_testkit::server::TestBackend;
use steward_testkit::{Logs, TestServer};

use crate::common::{PASSWORD, sign_up};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The out-of-the-box layout (SQLite and the local mailbox in the data folder) in a
/// folder that does not exist yet.
fn in_data_dir(data: PathBuf) -> impl FnOnce(&mut steward_server::Config) + Send + 'static {
    move |c| {
        c.data_dir = data;
        c.database_url = None;
        c.mail.smtp_url = None;
    }
}

/// What the server warns about while it starts on `data` and stops again.
async fn start_and_stop(data: &Path) -> String {
    let logs = Logs::capture_at(tracing::level_filters::LevelFilter::WARN);
    let s = TestServer::builder()
        .backend(TestBackend::Sqlite)
        .config(in_data_dir(data.to_path_buf()))
        .start()
        .await
        .unwrap();
    s.stop().await;
    logs.text()
}

/// The mailbox's files, once `n` messages (an `.eml` and a `.json` each) arrived.
async fn mailbox_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    for _ in 0..200 {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .collect();
        if files.len() >= 2 * n {
            return files;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail in {}", dir.display());
}

#[tokio::test]
async fn a_new_data_folder_and_everything_in_it_is_the_owners_alone() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("srv/steward-data");
    let s = TestServer::builder()
        .backend(TestBackend::Sqlite)
        .config(in_data_dir(data.clone()))
        .start()
        .await
        .unwrap();
    let c = s.client().unwrap();
    assert_eq!(
        sign_up(&c, "ada@example.com", "ada", PASSWORD).await.status,
        201
    );
    let mail = mailbox_files(&data.join("mailbox"), 1).await;

    assert_eq!(
        mode(&root.path().join("srv")),
        0o700,
        "a missing parent too"
    );
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("mailbox")), 0o700);
    // -wal and -shm exist while the database is open; SQLite gives them its mode.
    for file in [
        "steward.db",
        "steward.db-wal",
        "steward.db-shm",
        "master.key",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        mail.iter()
            .any(|f| f.extension().is_some_and(|e| e == "eml"))
    );
    for file in &mail {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    s.stop().await;
}

#[tokio::test]
async fn loose_modes_in_an_existing_data_folder_are_warned_about_until_fixed() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("steward-data");
    let key_hex = "ab".repeat(32);
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(data.join("mailbox")).unwrap();
    std::fs::write(data.join("master.key"), &key_hex).unwrap();
    // An empty file is an empty SQLite database: made by an older Steward, or by hand.
    std::fs::write(data.join("steward.db"), b"").unwrap();
    for (path, m) in [
        (data.clone(), 0o755),
        (data.join("mailbox"), 0o755),
        (data.join("master.key"), 0o644),
        (data.join("steward.db"), 0o644),
    ] {
        chmod(&path, m);
    }

    let text = start_and_stop(&data).await;
    for (file, m) in [
        ("", "755"),
        ("/mailbox", "755"),
        ("/master.key", "644"),
        ("/steward.db", "644"),
        // Opened from a 0644 database, SQLite made these 0644 too.
        ("/steward.db-wal", "644"),
        ("/steward.db-shm", "644"),
    ] {
        let wanted = format!("path={}{file} mode={m}", data.display());
        assert!(
            text.lines()
                .any(|l| l.contains("WARN") && l.contains(&wanted)),
            "no warning with {wanted}:\n{text}"
        );
    }
    assert!(
        !text.contains(&key_hex),
        "the key's contents are not logged"
    );

    // The operator follows the advice: the next start is quiet.
    for (path, m) in [
        (data.clone(), 0o700),
        (data.join("mailbox"), 0o700),
        (data.join("master.key"), 0o600),
        (data.join("steward.db"), 0o600),
    ] {
        chmod(&path, m);
    }
    for side in ["steward.db-wal", "steward.db-shm"] {
        if let Ok(meta) = std::fs::metadata(data.join(side)) {
            assert!(meta.is_file());
            chmod(&data.join(side), 0o600);
        }
    }
    let text = start_and_stop(&data).await;
    assert!(!text.contains("chmod"), "{text}");
}
