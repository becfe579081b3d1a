//! What a server in this test logs, captured as the operator's terminal would
//! show it (the same `tracing` formatter, without colours).
//!
//! Capture is per thread: other tests run their servers on other threads at the
//! same time and must not write here. A `#[tokio::test]` runs on one thread (the
//! current-thread runtime), so the server started by the test, its connections
//! and its background tasks all log here; work moved to other threads (password
//! hashing) does not. One subscriber serves the whole process and decides per
//! event whether its thread is capturing: several subscribers of their own, one
//! per test, lose events, because `tracing` caches per call site what the
//! subscribers alive at that moment wanted.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::layer::SubscriberExt;

/// Where this thread's log lines go, and from which level.
struct Target {
    buf: Arc<Mutex<Vec<u8>>>,
    level: LevelFilter,
}

thread_local! {
    static TARGET: RefCell<Option<Target>> = const { RefCell::new(None) };
}

/// Log lines captured on this thread while this value lives.
#[must_use = "logs are captured only while this value lives"]
pub struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").finish_non_exhaustive()
    }
}

/// Writes into the capturing thread's buffer.
struct Sink;

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        TARGET.with(|t| {
            if let Some(t) = t.borrow().as_ref() {
                t.buf
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the process's one subscriber (once). It is not `init()`: that would
/// also turn `log` records (the HTTP client's, with whole URLs) into events.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let capturing = dynamic_filter_fn(|meta, _| {
            TARGET.with(|t| {
                t.borrow()
                    .as_ref()
                    .is_some_and(|t| *meta.level() <= t.level)
            })
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| Sink)
            .with_filter(capturing);
        let subscriber = tracing_subscriber::registry().with(layer);
        // Another global subscriber (none in the test kit) would keep these logs from us.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

impl Logs {
    /// Captures everything at `debug` and above (more than an operator's default
    /// `info`, so a secret logged at a quieter level is caught too).
    pub fn capture() -> Self {
        Self::capture_at(LevelFilter::DEBUG)
    }

    /// Captures events at `level` and above; replaces this thread's earlier capture.
    pub fn capture_at(level: LevelFilter) -> Self {
        install();
        let buf = Arc::new(Mutex::new(Vec::new()));
        TARGET.with(|t| {
            *t.borrow_mut() = Some(Target {
                buf: buf.clone(),
                level,
            });
        });
        Self { buf }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        TARGET.with(|t| {
            let mut t = t.borrow_mut();
            if t.as_ref().is_some_and(|t| Arc::ptr_eq(&t.buf, &self.buf)) {
                *t = None;
            }
        });
    }
}
