//! Hazard tracking: the commands of different lists and queues of a context that use the
//! same allocation run in the order the host issued them.
//!
//! Level Zero runs the commands of two immediate lists, or of two queues, concurrently unless
//! events order them. Without help, a copy on one list that reads a buffer another list is
//! still writing reads a mix of old and new bytes, and two writers race. This module makes
//! the safe API behave like sequential program order across lists and queues, as cudarc does
//! for CUDA streams: each allocation records its last writes and the reads since, as *marks*
//! (a timeline and a sequence number on it), and a command on another timeline waits, on the
//! device, for the marks it conflicts with:
//!
//! - read after write: a read waits for the last write;
//! - write after read, write after write: a write waits for the last write and the reads
//!   since.
//!
//! A *timeline* is an immediate list or a queue (the regular lists executed on a queue share
//! its timeline). Every command that uses memory gets an event from its timeline, signalled
//! when the command completes; waiting for a mark is waiting for that event. Commands of the
//! same timeline are not made to wait for each other: an in-order timeline (the default)
//! already runs them in order, and a [`Relaxed`](crate::Ordering::Relaxed) list is the
//! user's to order (its marks are still kept exactly, so other timelines wait for all of
//! them). Granularity is the allocation: two lists writing disjoint halves of one buffer are
//! ordered too.
//!
//! Where the waits go: an immediate-list command passes them in its own wait list (and its
//! event as its signal event, or in a barrier right after when the caller gave the command a
//! signal event of its own); a queue execution is preceded by a barrier that waits for them
//! and followed by a barrier that signals its event, in two small internal regular lists run
//! in the same `zeCommandQueueExecuteCommandLists` call. Recording a regular list costs
//! nothing: its hazards are resolved each time it is executed.
//!
//! A mark is *finished* once its timeline has seen the command complete (a synchronisation,
//! or the fence of a queue execution); a finished mark needs no wait, and its event returns to
//! the timeline's free events once nothing else holds it.
//!
//! The switch: [`Context::disable_hazard_tracking`](crate::Context::disable_hazard_tracking)
//! (unsafe: the caller then orders conflicting uses across lists and queues itself).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::context::Context;
use crate::error::Result;
use crate::event::{Event, EventPool, EventPoolFlags};
use crate::memory::{Allocation, Use};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One timeline: the part other timelines read.
pub(crate) struct Timeline {
    /// Whether its commands run in order (marks of the same timeline then cover the
    /// earlier ones).
    in_order: bool,
    /// Every command up to this sequence number is seen finished.
    finished: AtomicU64,
    /// The events of commands not yet seen finished, by sequence number (ascending).
    pending: Mutex<VecDeque<(u64, Event)>>,
}

impl Timeline {
    fn is_finished(&self, seq: u64) -> bool {
        self.finished.load(Ordering::Acquire) >= seq
    }

    /// The event to wait for command `seq`, or `None` once it is seen finished.
    fn unfinished(&self, seq: u64) -> Option<Event> {
        let pending = lock(&self.pending);
        // Under the lock: `finished` and `pending` change together.
        if self.is_finished(seq) {
            return None;
        }
        let i = pending.binary_search_by_key(&seq, |(s, _)| *s).ok();
        debug_assert!(i.is_some(), "mark {seq} has no event and is not finished");
        i.map(|i| pending[i].1.clone())
    }
}

/// A use of an allocation by command `seq` of `timeline`.
#[derive(Clone)]
struct Mark {
    timeline: Arc<Timeline>,
    seq: u64,
}

impl Mark {
    fn is_finished(&self) -> bool {
        self.timeline.is_finished(self.seq)
    }

    fn on(&self, timeline: &Arc<Timeline>) -> bool {
        Arc::ptr_eq(&self.timeline, timeline)
    }
}

/// An allocation's unfinished uses: the last writes and the reads since.
#[derive(Default)]
pub(crate) struct Marks {
    writes: Vec<Mark>,
    reads: Vec<Mark>,
}

impl Marks {
    /// Adds to `waits` what command `seq` of `me` must wait for to `write` (or read) this
    /// allocation in program order, then records the command's use.
    fn plan(&mut self, me: &Arc<Timeline>, seq: u64, write: bool, waits: &mut Vec<Event>) {
        let conflicting = if write {
            &[&self.writes, &self.reads][..]
        } else {
            &[&self.writes][..]
        };
        for m in conflicting.iter().flat_map(|v| v.iter()) {
            if !m.on(me)
                && let Some(e) = m.timeline.unfinished(m.seq)
                && !waits.iter().any(|w| w.as_raw() == e.as_raw())
            {
                waits.push(e);
            }
        }
        // What a later user must wait for. Marks of other timelines that this command
        // waits for are covered by it (it signals after they finished), and so are earlier
        // marks of an in-order timeline; a relaxed timeline's own earlier marks stay.
        let mark = Mark {
            timeline: me.clone(),
            seq,
        };
        let keep_own = |m: &Mark| m.on(me) && !me.in_order && !m.is_finished();
        if write {
            self.writes.retain(keep_own);
            self.reads.retain(keep_own);
            self.writes.push(mark);
        } else {
            self.writes.retain(|m| !m.is_finished());
            self.reads
                .retain(|m| !m.is_finished() && (!m.on(me) || !me.in_order));
            self.reads.push(mark);
        }
    }
}

/// What a command that uses memory needs: its sequence number, the event it signals when it
/// completes, and the events it must wait for.
pub(crate) struct Planned {
    pub(crate) signal: Event,
    pub(crate) waits: Vec<Event>,
}

impl Planned {
    /// The command was not appended: nothing will signal its event, so the host does (other
    /// timelines may already wait for it; the data they wait for is simply unchanged).
    pub(crate) fn abandon(self) {
        if let Err(e) = self.signal.host_signal() {
            log::error!(
                "level-zero: signalling the event of a command that failed to append failed: {e}"
            );
        }
    }
}

const EVENTS_PER_POOL: u32 = 32;

/// The issuing side of a timeline, owned by its immediate list or queue: sequence numbers and
/// events.
pub(crate) struct Issuer {
    pub(crate) timeline: Arc<Timeline>,
    ctx: Context,
    /// The last sequence number handed out.
    last: u64,
    free: Vec<Event>,
    /// Events of finished commands that something else (a waiting command of another
    /// timeline) still holds; free again once it lets go.
    lent: Vec<Event>,
}

impl Issuer {
    pub(crate) fn new(ctx: &Context, in_order: bool) -> Issuer {
        Issuer {
            timeline: Arc::new(Timeline {
                in_order,
                finished: AtomicU64::new(0),
                pending: Mutex::new(VecDeque::new()),
            }),
            ctx: ctx.clone(),
            last: 0,
            free: Vec::new(),
            lent: Vec::new(),
        }
    }

    /// The last sequence number handed out.
    pub(crate) fn last(&self) -> u64 {
        self.last
    }

    fn take_event(&mut self) -> Result<Event> {
        if let Some(e) = self.free.pop() {
            return Ok(e);
        }
        self.reclaim_lent();
        if let Some(e) = self.free.pop() {
            return Ok(e);
        }
        // Host-visible: the host resets events for reuse, and signals the event of a
        // command that failed to append.
        let pool = EventPool::new(&self.ctx, EVENTS_PER_POOL, EventPoolFlags::HOST_VISIBLE)?;
        for i in 1..EVENTS_PER_POOL {
            self.free.push(pool.event(i)?);
        }
        pool.event(0)
    }

    /// Plans the next command of this timeline, which uses `uses`: `None` when hazard
    /// tracking is off in the context or the command uses no memory.
    pub(crate) fn plan<'a>(
        &mut self,
        uses: impl IntoIterator<Item = &'a Use>,
    ) -> Result<Option<Planned>> {
        let mut uses = uses.into_iter().peekable();
        if uses.peek().is_none() || !self.ctx.hazard_tracking() {
            return Ok(None);
        }
        let signal = self.take_event()?;
        self.last += 1;
        let seq = self.last;
        lock(&self.timeline.pending).push_back((seq, signal.clone()));

        // Each allocation once (a write if any use writes), locked in address order so that
        // two timelines planning at once cannot deadlock.
        let mut allocs: Vec<(&Arc<Allocation>, bool)> = Vec::with_capacity(uses.size_hint().0);
        for u in uses {
            allocs.push((&u.alloc, u.write));
        }
        allocs.sort_unstable_by_key(|(a, _)| Arc::as_ptr(a));
        allocs.dedup_by(|(a, w), (b, wb)| {
            let same = Arc::ptr_eq(a, b);
            if same {
                *wb |= *w;
            }
            same
        });
        let mut guards: Vec<_> = allocs.iter().map(|(a, _)| lock(&a.hazards)).collect();
        let mut waits = Vec::new();
        for (g, (_, write)) in guards.iter_mut().zip(&allocs) {
            g.plan(&self.timeline, seq, *write, &mut waits);
        }
        Ok(Some(Planned { signal, waits }))
    }

    /// Every command up to `seq` is seen finished (`lost`: its device was lost, so it
    /// will never signal: the host signals its event, for commands of other devices that
    /// wait for it).
    pub(crate) fn finished_through(&mut self, seq: u64, lost: bool) {
        let done: Vec<Event> = {
            let mut pending = lock(&self.timeline.pending);
            self.timeline.finished.fetch_max(seq, Ordering::AcqRel);
            let n = pending.iter().take_while(|(s, _)| *s <= seq).count();
            pending.drain(..n).map(|(_, e)| e).collect()
        };
        for e in done {
            if lost && let Err(err) = e.host_signal() {
                log::error!("level-zero: signalling an event of a lost device failed: {err}");
            }
            self.recycle(e);
        }
        self.reclaim_lent();
    }

    /// Every command issued so far is seen finished.
    pub(crate) fn finished_all(&mut self, lost: bool) {
        self.finished_through(self.last, lost);
    }

    fn recycle(&mut self, e: Event) {
        if !e.is_shared() {
            match e.host_reset() {
                Ok(()) => self.free.push(e),
                // Dropped: a new one replaces it when needed.
                Err(err) => log::error!("level-zero: resetting a hazard event failed: {err}"),
            }
        } else {
            self.lent.push(e);
        }
    }

    fn reclaim_lent(&mut self) {
        if self.lent.iter().any(|e| !e.is_shared()) {
            for e in std::mem::take(&mut self.lent) {
                self.recycle(e);
            }
        }
    }
}
