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
//! served first whenever a hash finishes. Anyone can hold an account of their
//! own, so the priority lane is fair between accounts too: each account may
//! have one attempt waiting, and waiting accounts are served in turn, so one
//! account's flood delays another's sign-in by one hash at most.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Which queue an attempt waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Attempts something already vouches for: served first, in turn by account.
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
    priority_backlog: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    /// Waiters of the priority lane by account, and the accounts in serving order.
    priority: HashMap<String, VecDeque<oneshot::Sender<()>>>,
    turns: VecDeque<String>,
    priority_waiting: usize,
    open: VecDeque<oneshot::Sender<()>>,
}

/// Priority attempts of one account that may wait at once.
const PER_ACCOUNT: usize = 1;

impl State {
    fn next_priority(&mut self) -> Option<oneshot::Sender<()>> {
        let key = self.turns.pop_front()?;
        let queue = self.priority.get_mut(&key)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            self.priority.remove(&key);
        } else {
            self.turns.push_back(key);
        }
        self.priority_waiting = self.priority_waiting.saturating_sub(1);
        next
    }
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
            let next = match st.next_priority() {
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
    /// attempts waiting, and at most `priority_backlog` priority ones (one per account).
    pub fn new(capacity: usize, open_backlog: usize, priority_backlog: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                open_backlog,
                priority_backlog: priority_backlog.max(1),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Waits for a slot in `lane` for `account` (whose turn it is in the priority
    /// lane), or `Busy` at once when that lane has no room for it.
    pub async fn admit(&self, lane: Lane, account: &str) -> Result<Slot, Busy> {
        let mut waiting = {
            let mut st = self.inner.lock();
            let queued = st.priority_waiting + st.open.len();
            if st.running < self.inner.capacity && queued == 0 {
                st.running += 1;
                return Ok(Slot {
                    inner: self.inner.clone(),
                    lane,
                });
            }
            let (tx, rx) = oneshot::channel();
            match lane {
                Lane::Priority => {
                    let mine = st.priority.get(account).map_or(0, VecDeque::len);
                    if mine >= PER_ACCOUNT || st.priority_waiting >= self.inner.priority_backlog {
                        return Err(Busy);
                    }
                    if mine == 0 {
                        st.turns.push_back(account.to_owned());
                    }
                    st.priority
                        .entry(account.to_owned())
                        .or_default()
                        .push_back(tx);
                    st.priority_waiting += 1;
                }
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
        (st.priority_waiting, st.open.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_open_lane_sheds_beyond_its_backlog_and_priority_goes_first() {
        let q = HashQueue::new(1, 2, 8);
        let running = q.admit(Lane::Open, "").await.unwrap();
        let q1 = q.clone();
        let open1 = tokio::spawn(async move { q1.admit(Lane::Open, "").await.map(|_| "open1") });
        let q2 = q.clone();
        let open2 = tokio::spawn(async move { q2.admit(Lane::Open, "").await.map(|_| "open2") });
        while q.waiting().1 < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            q.admit(Lane::Open, "").await.unwrap_err(),
            Busy,
            "backlog full"
        );

        // A vouched attempt is never turned away and overtakes the open backlog.
        let (tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let q3 = q.clone();
        let tx3 = tx.clone();
        let prio = tokio::spawn(async move {
            let slot = q3.admit(Lane::Priority, "ada").await.unwrap();
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
        let _a = q.admit(Lane::Open, "").await.unwrap();
        drop(tx);
    }

    #[tokio::test]
    async fn accounts_take_turns_in_the_priority_lane_one_waiting_each() {
        let q = HashQueue::new(1, 0, 8);
        let running = q.admit(Lane::Open, "").await.unwrap();
        let (tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for account in ["mallory", "ada"] {
            let (q2, tx) = (q.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let slot = q2.admit(Lane::Priority, account).await.unwrap();
                tx.send(account).unwrap();
                drop(slot);
            }));
            while q.waiting().0 < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        // Mallory's second attempt finds her turn taken: turned away, not queued.
        assert_eq!(q.admit(Lane::Priority, "mallory").await.unwrap_err(), Busy);
        drop(running);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(order.recv().await, Some("mallory"));
        assert_eq!(
            order.recv().await,
            Some("ada"),
            "one hash later, not after all of hers"
        );
        // The lane as a whole is bounded too.
        let q = HashQueue::new(1, 0, 2);
        let _running = q.admit(Lane::Open, "").await.unwrap();
        let mut held = Vec::new();
        for account in ["a", "b"] {
            let q2 = q.clone();
            held.push(tokio::spawn(async move {
                q2.admit(Lane::Priority, account).await.is_ok()
            }));
        }
        while q.waiting().0 < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(q.admit(Lane::Priority, "c").await.unwrap_err(), Busy);
        for h in held {
            h.abort();
        }
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_a_slot() {
        let q = HashQueue::new(1, 4, 8);
        let running = q.admit(Lane::Open, "").await.unwrap();
        let q1 = q.clone();
        let gave_up = tokio::spawn(async move { q1.admit(Lane::Open, "").await.is_ok() });
        while q.waiting().1 < 1 {
            tokio::task::yield_now().await;
        }
        gave_up.abort();
        let _ = gave_up.await;
        drop(running);
        // The slot went to nobody (the waiter left), so it is free now.
        let slot = tokio::time::timeout(std::time::Duration::from_secs(1), q.admit(Lane::Open, ""))
            .await
            .expect("the abandoned slot was released");
        assert!(slot.is_ok());
    }
}
