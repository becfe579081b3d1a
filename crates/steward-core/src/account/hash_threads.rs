//! The threads password hashes run on, apart from the async runtime.
//!
//! Each lane of the [hash queue](super::hash_queue) has its own threads, as many
//! as hashes may run at once. The open lane's run at a lower scheduling priority
//! (nice 10 on Linux): when a flood of unvouched guesses keeps them busy, the
//! request handlers (`/api/v1/me`, pages, the 503s that shed the flood) and the
//! priority lane's hashes still get the CPU first, so they keep their latency.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::hash_queue::{Lane, Slot};
use crate::error::{CoreError, CoreResult};

type Job = Box<dyn FnOnce() + Send>;

/// Niceness of the open lane's threads: they yield to everything else under load.
const OPEN_LANE_NICENESS: i32 = 10;

/// Two small pools of hash threads, one per lane.
#[derive(Debug, Clone)]
pub struct HashThreads {
    priority: mpsc::Sender<Job>,
    open: mpsc::Sender<Job>,
}

impl HashThreads {
    /// `per_lane` threads for each lane (at least one). Threads end when the last
    /// clone is dropped.
    pub fn start(per_lane: usize) -> CoreResult<Self> {
        Ok(Self {
            priority: pool("steward-hash", per_lane, 0)?,
            open: pool("steward-hash-open", per_lane, OPEN_LANE_NICENESS)?,
        })
    }

    /// Runs `work` on a thread of the slot's lane. The slot is released when the work
    /// is done, even if the caller stopped waiting, so no more hashes run at once than
    /// the queue admits.
    pub async fn run<T: Send + 'static>(
        &self,
        slot: Slot,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> CoreResult<T> {
        let (tx, rx) = oneshot::channel();
        let pool = match slot.lane() {
            Lane::Priority => &self.priority,
            Lane::Open => &self.open,
        };
        let job: Job = Box::new(move || {
            let out = work();
            drop(slot);
            let _ = tx.send(out);
        });
        pool.send(job)
            .map_err(|_| CoreError::Internal("the hash threads stopped".into()))?;
        rx.await
            .map_err(|_| CoreError::Internal("a hash thread stopped".into()))
    }
}

fn pool(name: &str, threads: usize, niceness: i32) -> CoreResult<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads.max(1) {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || {
                lower_priority(niceness);
                loop {
                    // Held only to take the next job, never while it runs.
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .map_err(|e| CoreError::Internal(format!("starting a hash thread: {e}")))?;
    }
    Ok(tx)
}

/// Raises this thread's niceness by `by` (Linux keeps it per thread). Best effort: a
/// hash that runs at normal priority is slower to yield, not wrong.
fn lower_priority(by: i32) {
    if by == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::nice(by) {
        tracing::warn!(error = %e, "could not lower the priority of a hash thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::hash_queue::HashQueue;

    #[tokio::test]
    async fn work_runs_on_its_lanes_threads_and_gives_the_slot_back() {
        let threads = HashThreads::start(1).unwrap();
        let queue = HashQueue::new(1, 1, 1);
        let name = |lane| {
            let (threads, queue) = (threads.clone(), queue.clone());
            async move {
                let slot = queue.admit(lane, "").await.unwrap();
                threads
                    .run(slot, || std::thread::current().name().map(str::to_owned))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            name(Lane::Open).await.as_deref(),
            Some("steward-hash-open-0")
        );
        assert_eq!(
            name(Lane::Priority).await.as_deref(),
            Some("steward-hash-0")
        );
        // Both slots came back: the single one is free again.
        assert_eq!(queue.waiting(), (0, 0));
        let _again = queue.admit(Lane::Open, "").await.unwrap();
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_open_lanes_threads_yield_to_everything_else() {
        let threads = HashThreads::start(1).unwrap();
        let queue = HashQueue::new(2, 1, 1);
        let niceness = |lane| {
            let (threads, queue) = (threads.clone(), queue.clone());
            async move {
                let slot = queue.admit(lane, "").await.unwrap();
                threads
                    .run(slot, || rustix::process::nice(0).unwrap())
                    .await
                    .unwrap()
            }
        };
        let base = rustix::process::nice(0).unwrap();
        assert_eq!(niceness(Lane::Priority).await, base);
        assert_eq!(
            niceness(Lane::Open).await,
            (base + OPEN_LANE_NICENESS).min(19)
        );
    }
}
