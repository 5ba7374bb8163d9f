//! Hazard tracking: the commands of different lists and queues of a context that use the
//! same allocation run in the order the host issued them.
//!
//! Level Zero runs the commands of two immediate lists, or of two queues, concurrently unless
//! events order them. Without help, a copy on one list that reads a buffer another list is
//! still writing reads a mix of old and new bytes, and two writers race. This module makes
//! the safe API behave like sequential program order across lists and queues, as cudarc does
//! for CUDA streams: each allocation records its last writes and the reads since, as *marks*
//! (a timeline and a sequence number on it), and a command of another timeline waits, on the
//! device, until the marks it conflicts with are done:
//!
//! - read after write: a read waits for the last write;
//! - write after read, write after write: a write waits for the last write and the reads
//!   since.
//!
//! A *timeline* is an immediate list or a queue (the regular lists executed on a queue share
//! its timeline; each execution is one step of it). Commands of the same timeline are not
//! made to wait for each other: an in-order timeline (the default) runs them in order, and a
//! [`Relaxed`](crate::Ordering::Relaxed) list is the user's to order. Granularity is the
//! allocation: two lists writing disjoint halves of one buffer are ordered too.
//!
//! # Events only where a hand-off needs one
//!
//! Work that stays on one list pays no event: a command records its marks and nothing else.
//! A timeline *publishes* an event — a barrier without waits that signals it, so it is
//! signalled once every command before it is done — in two cases:
//!
//! 1. Another timeline must wait for one of its commands and no publication covers that
//!    command yet: the other timeline appends the publishing barrier to this one (*catch-up*;
//!    immediate lists serialise their appends with a lock, which the owner holds only while
//!    it appends; queues accept submissions from any thread).
//! 2. Before it appends a command that waits for events (the user's, or hazard waits), if
//!    commands since its last publication need covering (for an in-order list this is the
//!    barrier it appends between commands anyway, now with an event).
//!
//! Rule 2 is what keeps catch-ups free of deadlock: a catch-up barrier signals after every
//! command before it, and by rule 2 the commands between the one waited for and the barrier
//! wait for nothing, so they finish on their own; the barrier never depends on work that
//! could in turn depend on the waiting timeline's later commands. A publication covers every
//! command before it, so for each hand-off the waiting command waits for at most one event
//! per timeline.
//!
//! A mark is *finished* once its timeline has seen the command complete (a synchronisation,
//! or the fence of a queue execution); finished marks need no wait, and publication events
//! return to the timeline's free events once nothing else holds them.
//!
//! # Locks
//!
//! Allocation marks are locked together, in address order, while a command is planned (so
//! two timelines planning at once see each other in one order); the timelines' event state is
//! a leaf lock. Catch-ups happen after the allocation locks are released: they wait until the
//! other timeline's owner has appended the command (it is between planning and appending for
//! a moment at most), then take that timeline's append lock. No thread holds one of those
//! while waiting for another.
//!
//! The switch: [`Context::disable_hazard_tracking`](crate::Context::disable_hazard_tracking)
//! (unsafe: the caller then orders conflicting uses across lists and queues itself).

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use level_zero_sys as sys;

use crate::context::Context;
use crate::error::{Result, ze};
use crate::event::{Event, EventPool, EventPoolFlags};
use crate::handle::Handle;
use crate::memory::{Allocation, Use};
use crate::queue::QueueShared;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How another thread appends a publication to a timeline.
pub(crate) enum Publisher {
    /// An immediate list: its handle, and the lock that serialises appends to it.
    List {
        handle: Handle<sys::_ze_command_list_handle_t>,
        append: Mutex<()>,
    },
    /// A queue (gone once the queue is destroyed, after its work was seen finished).
    Queue(Weak<QueueShared>),
}

/// A timeline's events: the publications not yet seen finished, and events for reuse.
#[derive(Default)]
struct Events {
    /// `(covered, event)`: the event is signalled once every command up to `covered` is
    /// done. Ascending.
    published: VecDeque<(u64, Event)>,
    free: Vec<Event>,
    /// Finished publications something else (a waiting command) still holds.
    lent: Vec<Event>,
}

/// One timeline, shared with the marks that refer to it.
pub(crate) struct Timeline {
    ctx: Context,
    /// Every command up to this sequence number has been appended (or given up).
    appended: AtomicU64,
    /// Every command up to this sequence number is seen finished.
    finished: AtomicU64,
    events: Mutex<Events>,
    /// The owner's life: [`OPEN`], [`CLOSING`] (being dropped: its last wait is under way,
    /// and nobody may append to it any more), [`DONE`] (its work is finished; the handle may
    /// be gone) or [`LEAKED`] (dropped with work that may still run; the handle stays).
    /// Changed under the append lock (lists) or the queue's lock (queues).
    life: AtomicU8,
    /// Whether `events` holds publications or lent events (changed under its lock; read
    /// without it to skip the lock when there is nothing to do).
    has_events: AtomicBool,
    pub(crate) publisher: Publisher,
}

const EVENTS_PER_POOL: u32 = 16;

/// Timeline lives (see [`Timeline::life`]).
pub(crate) const OPEN: u8 = 0;
pub(crate) const CLOSING: u8 = 1;
pub(crate) const DONE: u8 = 2;
pub(crate) const LEAKED: u8 = 3;

/// What a catch-up found.
pub(crate) enum CatchUp {
    /// Wait for this event.
    Wait(Event),
    /// Nothing to wait for: the command is seen finished.
    Finished,
    /// The owner is being dropped and is waiting for its work: ask again shortly.
    Retry,
}

fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

impl Timeline {
    pub(crate) fn new(ctx: &Context, publisher: Publisher) -> Arc<Timeline> {
        Arc::new(Timeline {
            ctx: ctx.clone(),
            appended: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            events: Mutex::new(Events::default()),
            life: AtomicU8::new(OPEN),
            has_events: AtomicBool::new(false),
            publisher,
        })
    }

    pub(crate) fn is_finished(&self, seq: u64) -> bool {
        self.finished.load(Ordering::Acquire) >= seq
    }

    /// Every command up to this sequence number has been appended (or given up).
    pub(crate) fn appended(&self) -> u64 {
        self.appended.load(Ordering::Acquire)
    }

    /// The lock serialising appends to an immediate list (a no-op guard for queues).
    pub(crate) fn append_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.publisher {
            Publisher::List { append, .. } => Some(lock(append)),
            Publisher::Queue(_) => None,
        }
    }

    /// A published event covering command `seq`, if there is one.
    pub(crate) fn publication(&self, seq: u64) -> Option<Event> {
        let ev = lock(&self.events);
        ev.published
            .iter()
            .find(|(covered, _)| *covered >= seq)
            .map(|(_, e)| e.clone())
    }

    /// An unsignalled event for a publication.
    fn take_event(&self) -> Result<Event> {
        let mut ev = lock(&self.events);
        if ev.free.is_empty() {
            reclaim(&mut ev);
        }
        if let Some(e) = ev.free.pop() {
            return Ok(e);
        }
        // Host-visible: the host resets events for reuse, and signals those of a lost
        // device.
        let pool = EventPool::new(&self.ctx, EVENTS_PER_POOL, EventPoolFlags::HOST_VISIBLE)?;
        for i in 1..EVENTS_PER_POOL {
            ev.free.push(pool.event(i)?);
        }
        pool.event(0)
    }

    /// Gives back an event whose publishing barrier could not be appended (unsignalled, and
    /// never shown to anyone).
    fn return_event(&self, e: Event) {
        lock(&self.events).free.push(e);
    }

    /// Records that `e` is signalled once every command up to `covered` is done (its barrier
    /// was appended).
    fn published(&self, covered: u64, e: &Event) {
        let mut ev = lock(&self.events);
        ev.published.push_back((covered, e.clone()));
        self.has_events.store(true, Ordering::Release);
    }

    /// Takes an event, appends the barrier that signals it with `append`, and records the
    /// publication of every command up to `covered`.
    pub(crate) fn publish(
        &self,
        covered: u64,
        append: impl FnOnce(&Event) -> Result<()>,
    ) -> Result<Event> {
        let e = self.take_event()?;
        match append(&e) {
            Ok(()) => {
                self.published(covered, &e);
                Ok(e)
            }
            Err(err) => {
                self.return_event(e);
                Err(err)
            }
        }
    }

    /// Every command up to `seq` is seen finished (`lost`: its device was lost, so what was
    /// published is never signalled by it: the host signals it, for commands of other
    /// devices that wait for it).
    pub(crate) fn finished_through(&self, seq: u64, lost: bool) {
        if !self.has_events.load(Ordering::Acquire) {
            // Nothing published or lent: the common case of work that stayed on one list.
            self.finished.fetch_max(seq, Ordering::AcqRel);
            return;
        }
        let mut ev = lock(&self.events);
        self.finished.fetch_max(seq, Ordering::AcqRel);
        while ev.published.front().is_some_and(|(c, _)| *c <= seq) {
            let (_, e) = ev.published.pop_front().expect("checked");
            if lost && let Err(err) = e.host_signal() {
                log::error!("level-zero: signalling an event of a lost device failed: {err}");
            }
            ev.lent.push(e);
        }
        reclaim(&mut ev);
        self.has_events.store(
            !ev.published.is_empty() || !ev.lent.is_empty(),
            Ordering::Release,
        );
    }

    /// Every command appended so far is seen finished.
    pub(crate) fn finished_all(&self, lost: bool) {
        self.finished_through(self.appended.load(Ordering::Acquire), lost);
    }

    /// The owner's life (see [`Timeline::life`]).
    pub(crate) fn life(&self) -> u8 {
        self.life.load(Ordering::Acquire)
    }

    /// Sets the owner's life; under the append lock (lists) or the queue's lock (queues).
    pub(crate) fn set_life(&self, life: u8) {
        self.life.store(life, Ordering::Release);
    }

    /// The event to wait for so that command `seq` is done, appending a publication if none
    /// covers it yet; `None` once it is seen finished.
    fn catch_up(self: &Arc<Self>, seq: u64) -> Result<Option<Event>> {
        let mut spins = 0u32;
        // The owner plans a command before appending it; wait until it has appended.
        while self.appended.load(Ordering::Acquire) < seq {
            backoff(&mut spins);
        }
        loop {
            let found = match &self.publisher {
                Publisher::List { handle, append } => {
                    let _g = lock(append);
                    self.catch_up_list(handle, seq)?
                }
                Publisher::Queue(q) => match q.upgrade() {
                    Some(q) => q.catch_up(self, seq)?,
                    None => CatchUp::Finished,
                },
            };
            match found {
                CatchUp::Wait(e) => return Ok(Some(e)),
                CatchUp::Finished => return Ok(None),
                CatchUp::Retry => backoff(&mut spins),
            }
        }
    }

    /// [`Timeline::catch_up`] for an immediate list, under its append lock.
    fn catch_up_list(
        &self,
        handle: &Handle<sys::_ze_command_list_handle_t>,
        seq: u64,
    ) -> Result<CatchUp> {
        if let Some(found) = self.catch_up_known(seq) {
            return Ok(found);
        }
        let covered = self.appended.load(Ordering::Acquire);
        let e = self.publish(covered, |e| {
            // SAFETY: a live immediate list: open or leaked (`catch_up_known`), so not
            // destroyed, and appended to under its append lock; the event lives in the
            // timeline until the barrier is seen finished.
            unsafe {
                ze!(
                    self.ctx.api(),
                    zeCommandListAppendBarrier(handle.0, e.as_raw(), 0, std::ptr::null_mut())
                )
            }
        })?;
        Ok(CatchUp::Wait(e))
    }

    /// What a catch-up finds without appending anything, under the append lock or the
    /// queue's lock: `None` when a publication must be appended.
    pub(crate) fn catch_up_known(&self, seq: u64) -> Option<CatchUp> {
        if self.is_finished(seq) || self.life() == DONE {
            return Some(CatchUp::Finished);
        }
        if let Some(e) = self.publication(seq) {
            return Some(CatchUp::Wait(e));
        }
        // Being dropped: its last wait covers everything appended so far, and nothing may
        // be appended after it started.
        (self.life() == CLOSING).then_some(CatchUp::Retry)
    }
}

/// Resets finished publications nothing holds any more, for reuse.
fn reclaim(ev: &mut Events) {
    let mut i = 0;
    while i < ev.lent.len() {
        if ev.lent[i].is_shared() {
            i += 1;
            continue;
        }
        let e = ev.lent.swap_remove(i);
        match e.host_reset() {
            Ok(()) => ev.free.push(e),
            // Dropped: a new one replaces it when needed.
            Err(err) => log::error!("level-zero: resetting a hazard event failed: {err}"),
        }
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

/// An allocation's unfinished uses: the last write and the reads since, at most one mark
/// per timeline each (a timeline's publication covers its earlier commands).
#[derive(Default)]
pub(crate) struct Marks {
    writes: Vec<Mark>,
    reads: Vec<Mark>,
}

/// What a command must wait for: events already published, and commands of other timelines
/// to catch up on.
#[derive(Default)]
struct Needs {
    events: Vec<Event>,
    catch_up: Vec<Mark>,
}

impl Needs {
    fn add(&mut self, m: &Mark) {
        if m.is_finished() {
            return;
        }
        if let Some(e) = m.timeline.publication(m.seq) {
            if !self.events.iter().any(|w| w.as_raw() == e.as_raw()) {
                self.events.push(e);
            }
            return;
        }
        match self.catch_up.iter_mut().find(|c| c.on(&m.timeline)) {
            Some(c) => c.seq = c.seq.max(m.seq),
            None => self.catch_up.push(m.clone()),
        }
    }
}

impl Marks {
    /// Adds what command `seq` of `me` must wait for to `write` (or read) this allocation in
    /// program order, then records the command's use.
    fn plan(&mut self, me: &Arc<Timeline>, seq: u64, write: bool, needs: &mut Needs) {
        for m in &self.writes {
            if !m.on(me) {
                needs.add(m);
            }
        }
        if write {
            for m in &self.reads {
                if !m.on(me) {
                    needs.add(m);
                }
            }
        }
        // What a later user must wait for. This command waits for the other timelines'
        // marks, so its own mark covers them (and its timeline's earlier ones).
        if write
            && self.reads.is_empty()
            && let [only] = &mut self.writes[..]
            && only.on(me)
        {
            // Rewriting what this timeline wrote last: no other marks to drop.
            only.seq = seq;
            return;
        }
        if !write
            && let [only] = &mut self.reads[..]
            && only.on(me)
            && self.writes.iter().all(|w| w.on(me))
        {
            // Reading again what only this timeline used.
            only.seq = seq;
            return;
        }
        let mark = Mark {
            timeline: me.clone(),
            seq,
        };
        if write {
            self.reads.clear();
            self.writes.clear();
            self.writes.push(mark);
        } else {
            self.writes.retain(|m| !m.is_finished());
            self.reads.retain(|m| !m.on(me) && !m.is_finished());
            self.reads.push(mark);
        }
    }
}

/// A command being issued. Dropping it (after the command was appended, or given up) lets
/// catch-ups waiting for it go on.
pub(crate) struct Issued<'a> {
    timeline: &'a Timeline,
    last_published: &'a mut u64,
    pub(crate) seq: u64,
    /// The events the command must wait for (hazards).
    pub(crate) waits: Vec<Event>,
    /// Whether a publication must precede the command (rule 2): the caller appends it with
    /// [`Issued::publish_before`].
    pub(crate) publish: bool,
}

impl<'a> Issued<'a> {
    /// The timeline the command is issued on.
    pub(crate) fn timeline(&self) -> &'a Timeline {
        self.timeline
    }

    /// Appends, with `append` (a barrier without waits signalling the event it is given),
    /// the publication the command needs before it. Call with the append lock held, right
    /// before appending the command.
    pub(crate) fn publish_before(
        &mut self,
        append: impl FnOnce(&Event) -> Result<()>,
    ) -> Result<()> {
        let covered = self.seq - 1;
        match self.timeline.publish(covered, append) {
            Ok(_) => {
                *self.last_published = covered;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl Issued<'_> {
    /// The command could not be appended. Its marks stay (they may already hide older ones
    /// from other timelines), so it must still happen after what it had to wait for: the
    /// host waits for those events, and the command is then an empty step of its timeline.
    pub(crate) fn abandon(self) {
        for e in &self.waits {
            if let Err(err) = e.host_synchronize() {
                log::error!(
                    "level-zero: waiting for the hazards of a command that failed to append: {err}"
                );
            }
        }
    }
}

impl Drop for Issued<'_> {
    fn drop(&mut self) {
        self.timeline.appended.fetch_max(self.seq, Ordering::AcqRel);
    }
}

/// The issuing side of a timeline, owned by its immediate list or queue.
pub(crate) struct Issuer {
    pub(crate) timeline: Arc<Timeline>,
    /// The last sequence number handed out.
    last: u64,
    /// The last command that recorded marks.
    last_mark: u64,
    /// The last command covered by a publication.
    last_published: u64,
}

impl Issuer {
    pub(crate) fn new(timeline: Arc<Timeline>) -> Issuer {
        Issuer {
            timeline,
            last: 0,
            last_mark: 0,
            last_published: 0,
        }
    }

    /// Issues the next command, which uses `uses` and waits for events of the caller's when
    /// `user_waits`: plans its hazards (records its marks, finds what it must wait for,
    /// appending publications to other timelines where needed), and decides whether a
    /// publication must precede it. The caller appends it (with the append lock), then
    /// drops the result.
    pub(crate) fn issue<U: Borrow<Use>>(
        &mut self,
        uses: &[U],
        user_waits: bool,
    ) -> Result<Issued<'_>> {
        self.last += 1;
        let seq = self.last;
        let earlier_mark = self.last_mark;
        let mut waits = Vec::new();
        if !uses.is_empty() && self.timeline.ctx.hazard_tracking() {
            let mut needs = Needs::default();
            plan(&self.timeline, seq, uses, &mut needs);
            self.last_mark = seq;
            waits = needs.events;
            for m in needs.catch_up {
                match m.timeline.catch_up(m.seq) {
                    Ok(Some(e)) => {
                        if !waits.iter().any(|w| w.as_raw() == e.as_raw()) {
                            waits.push(e);
                        }
                    }
                    Ok(None) => {}
                    // The other timeline's device is lost: its work stopped (see
                    // `crate::completion`), there is nothing to wait for.
                    Err(e) if e.is_device_lost() => {}
                    Err(e) => {
                        // Given up: nothing waits for this command.
                        self.timeline.appended.fetch_max(seq, Ordering::AcqRel);
                        return Err(e);
                    }
                }
            }
        }
        // Rule 2: a command that waits is preceded by a publication of the commands before
        // it that recorded marks and are not covered yet.
        let publish = (user_waits || !waits.is_empty()) && earlier_mark > self.last_published;
        Ok(Issued {
            timeline: &self.timeline,
            last_published: &mut self.last_published,
            seq,
            waits,
            publish,
        })
    }
}

/// Records the marks of command `seq` of `me` on the allocations of `uses` and collects what
/// it must wait for: every allocation once (a write if any use writes), all locked together
/// in address order so that two timelines planning at once are ordered one way.
fn plan<U: Borrow<Use>>(me: &Arc<Timeline>, seq: u64, uses: &[U], needs: &mut Needs) {
    fn one<U: Borrow<Use>>(u: &U) -> (&Arc<Allocation>, bool) {
        let u = u.borrow();
        (&u.alloc, u.write)
    }
    match uses {
        [] => {}
        [a] => {
            let (a, w) = one(a);
            lock(&a.hazards).plan(me, seq, w, needs);
        }
        // The common case of copies: no allocation for sorting.
        [a, b] => {
            let ((a, wa), (b, wb)) = (one(a), one(b));
            if Arc::ptr_eq(a, b) {
                lock(&a.hazards).plan(me, seq, wa | wb, needs);
            } else {
                let ((first, wf), (second, ws)) = if Arc::as_ptr(a) < Arc::as_ptr(b) {
                    ((a, wa), (b, wb))
                } else {
                    ((b, wb), (a, wa))
                };
                let mut g1 = lock(&first.hazards);
                let mut g2 = lock(&second.hazards);
                g1.plan(me, seq, wf, needs);
                g2.plan(me, seq, ws, needs);
            }
        }
        _ => {
            let mut allocs: Vec<(&Arc<Allocation>, bool)> = uses.iter().map(one).collect();
            allocs.sort_unstable_by_key(|(a, _)| Arc::as_ptr(a));
            allocs.dedup_by(|(a, w), (b, wb)| {
                let same = Arc::ptr_eq(a, b);
                if same {
                    *wb |= *w;
                }
                same
            });
            let mut guards: Vec<_> = allocs.iter().map(|(a, _)| lock(&a.hazards)).collect();
            for (g, (_, write)) in guards.iter_mut().zip(&allocs) {
                g.plan(me, seq, *write, needs);
            }
        }
    }
}
