//! Admission to the password hasher: a fixed number of hashes run at once, and
//! the attempts waiting for one are served from two lanes.
//!
//! Under credential stuffing, thousands of sign-ins with wrong passwords arrive
//! at once, each costing one Argon2id hash. Queued without bound, they make
//! everyone (the account owner included) wait behind them, and hold memory for
//! as long. So the **open** lane (sign-ins nothing vouches for, sign-ups) keeps
//! a short backlog and turns away the excess at once — the caller answers 503
//! with `Retry-After`, the same for every account, known or not. The
//! **priority** lane (a browser that signed in to the account before, a person
//! already signed in confirming their password, a reset link being used) is
//! served first whenever a hash finishes, so its wait is about one hash however
//! large the flood.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Which queue an attempt waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Attempts something already vouches for: served first, never turned away.
    Priority,
    /// Everything else: a short backlog, the excess turned away.
    Open,
}

/// The hasher is saturated and this attempt was turned away (try again shortly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Bounded admission to `capacity` concurrent hashes.
#[derive(Debug, Clone)]
pub struct HashQueue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    open_backlog: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    priority: VecDeque<oneshot::Sender<()>>,
    open: VecDeque<oneshot::Sender<()>>,
}

/// The right to run one hash; frees it (for the next waiter) when dropped.
#[derive(Debug)]
pub struct Slot {
    inner: Arc<Inner>,
    lane: Lane,
}

impl Slot {
    /// The lane it was admitted through.
    pub fn lane(&self) -> Lane {
        self.lane
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.release();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a finished hash's slot to the next live waiter, priority first.
    fn release(&self) {
        let mut st = self.lock();
        loop {
            let next = match st.priority.pop_front() {
                Some(w) => w,
                None => match st.open.pop_front() {
                    Some(w) => w,
                    None => break,
                },
            };
            // A waiter that gave up (its request ended) is skipped.
            if next.send(()).is_ok() {
                return;
            }
        }
        st.running = st.running.saturating_sub(1);
    }
}

/// A waiter's side of the hand-over. Dropped before its turn, it leaves the queue;
/// dropped just after being handed a slot, it passes the slot on.
struct Waiting {
    rx: oneshot::Receiver<()>,
    inner: Arc<Inner>,
    served: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.inner.release();
        }
    }
}

impl HashQueue {
    /// `capacity` hashes at once (at least one); at most `open_backlog` open-lane
    /// attempts waiting.
    pub fn new(capacity: usize, open_backlog: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                open_backlog,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Waits for a slot in `lane`, or `Busy` at once when the open lane is full.
    pub async fn admit(&self, lane: Lane) -> Result<Slot, Busy> {
        let mut waiting = {
            let mut st = self.inner.lock();
            let queued = st.priority.len() + st.open.len();
            if st.running < self.inner.capacity && queued == 0 {
                st.running += 1;
                return Ok(Slot {
                    inner: self.inner.clone(),
                    lane,
                });
            }
            let (tx, rx) = oneshot::channel();
            match lane {
                Lane::Priority => st.priority.push_back(tx),
                Lane::Open if st.open.len() < self.inner.open_backlog => st.open.push_back(tx),
                Lane::Open => return Err(Busy),
            }
            Waiting {
                rx,
                inner: self.inner.clone(),
                served: false,
            }
        };
        match (&mut waiting.rx).await {
            Ok(()) => {
                // The slot is the `Slot`'s to release now, not the waiter's.
                waiting.served = true;
                Ok(Slot {
                    inner: self.inner.clone(),
                    lane,
                })
            }
            // The queue itself went away: nothing left to wait for.
            Err(_) => Err(Busy),
        }
    }

    /// Whether an open-lane attempt arriving now would be turned away. A hint for
    /// answering before any other work; [`HashQueue::admit`] decides.
    pub fn open_full(&self) -> bool {
        let st = self.inner.lock();
        st.running >= self.inner.capacity && st.open.len() >= self.inner.open_backlog
    }

    /// How many attempts wait in each lane (priority, open), for metrics and tests.
    pub fn waiting(&self) -> (usize, usize) {
        let st = self.inner.lock();
        (st.priority.len(), st.open.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_open_lane_sheds_beyond_its_backlog_and_priority_goes_first() {
        let q = HashQueue::new(1, 2);
        let running = q.admit(Lane::Open).await.unwrap();
        let q1 = q.clone();
        let open1 = tokio::spawn(async move { q1.admit(Lane::Open).await.map(|_| "open1") });
        let q2 = q.clone();
        let open2 = tokio::spawn(async move { q2.admit(Lane::Open).await.map(|_| "open2") });
        while q.waiting().1 < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(q.admit(Lane::Open).await.unwrap_err(), Busy, "backlog full");

        // A vouched attempt is never turned away and overtakes the open backlog.
        let (tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let q3 = q.clone();
        let tx3 = tx.clone();
        let prio = tokio::spawn(async move {
            let slot = q3.admit(Lane::Priority).await.unwrap();
            tx3.send("priority").unwrap();
            drop(slot);
        });
        while q.waiting().0 < 1 {
            tokio::task::yield_now().await;
        }
        drop(running);
        prio.await.unwrap();
        assert_eq!(order.recv().await, Some("priority"));
        assert_eq!(open1.await.unwrap(), Ok("open1"));
        assert_eq!(open2.await.unwrap(), Ok("open2"));
        assert_eq!(q.waiting(), (0, 0));
        // Everything was given back: the full capacity is free again.
        let _a = q.admit(Lane::Open).await.unwrap();
        drop(tx);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_a_slot() {
        let q = HashQueue::new(1, 4);
        let running = q.admit(Lane::Open).await.unwrap();
        let q1 = q.clone();
        let gave_up = tokio::spawn(async move { q1.admit(Lane::Open).await.is_ok() });
        while q.waiting().1 < 1 {
            tokio::task::yield_now().await;
        }
        gave_up.abort();
        let _ = gave_up.await;
        drop(running);
        // The slot went to nobody (the waiter left), so it is free now.
        let slot = tokio::time::timeout(std::time::Duration::from_secs(1), q.admit(Lane::Open))
            .await
            .expect("the abandoned slot was released");
        assert!(slot.is_ok());
    }
}
