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
//! Synchronous timelines (`QueueMode::Synchronous`: an append or execution returns only once
//! it completed) publish every command that uses memory, with an event registered before the
//! append: another timeline must never have to wait for such an owner to return.
//!
//! A mark is *finished* once its timeline has seen the command complete (a synchronisation,
//! or the fence of a queue execution); finished marks need no wait. A publication is retired
//! (its event reset for reuse once nothing else holds it) only when the synchronisation that
//! saw it complete started after its barrier was appended.
//!
//! # Failures
//!
//! - A command that could not be appended keeps its marks (they may already hide older marks
//!   from other timelines); the events it would have waited for are kept by its timeline as
//!   *abandoned waits*, which every user of the timeline's marks planned after it waits for
//!   too, until they are signalled (read after looking up the timeline's publications, so
//!   that a publication made since a command was given up is never taken as covering it).
//!   Nothing blocks the host. (A synchronous command's published event is signalled once
//!   those waits are, by a helper thread.)
//! - The same holds for the commands of a timeline whose device is seen lost (by its
//!   synchronisation, or by a catch-up whose append fails with the loss, which first waits
//!   for the timeline to stop): their marks stood for work that waited for other timelines,
//!   and that work will not run, so the waits they inherited become abandoned waits.
//! - A lost device never runs what it had not started; the CPU driver completes those
//!   commands as no-ops in order (each after its wait events) and signals their events with
//!   the loss, so publications of a lost timeline are signalled only after what their
//!   commands waited for. (For drivers that do not, `Timeline::lost` signals them from the
//!   host once the waits of the appended commands they cover are signalled.)
//!
//! # Plan order: no cycle of waits
//!
//! Every tracked command gets a *plan sequence number*, from one counter of the process,
//! while it holds the locks of the allocations it uses: a command that sees another's mark
//! was planned after it and has a greater number. Every event a command waits for carries
//! the plan sequence number of the command it stands for, its *stamp*: for a publication,
//! the command of the mark it was found for (only the first publication covering a command
//! is ever used for it, never a later one, even once the first is retired; the commands
//! after it that it also covers wait for nothing, by rule 2); for an abandoned wait, the
//! stamp the abandoned command took it with. The invariant:
//!
//! **every wait edge points from a command to an event of a strictly earlier plan sequence.**
//!
//! An event is signalled once commands planned no later than its stamp are done (and the
//! commands without waits between them, which finish on their own), and those wait only for
//! events of still earlier stamps: every chain of waits descends in plan order, so none can
//! return to where it started. No cycle can form, whatever fails or is lost, and so no
//! catch-up barrier, publication or synchronous append waits for good on the tracker's
//! account.
//!
//! Abandoned waits keep the invariant by rule: each keeps the plan sequence number of the
//! command that took it and binds only commands planned after that one. A command planned
//! earlier cannot depend on a later one, and handing it the later one's waits (which may
//! wait for the earlier command itself, possibly through other timelines) is what made
//! cycles: a synchronous command waiting, through the abandoned waits of a lost list, for a
//! publication of a third timeline that waited for its own event. The host signals a lost
//! timeline's publication after the abandoned waits of the appended commands it covers (and
//! a given-up synchronous command's own event after that command's), which are stamped below
//! the publication's waiters.
//!
//! Every wait edge is made in one place (`Needs::wait`), which checks the invariant: an
//! edge that broke it would be dropped, and logged as the bug it is (a missing wait may let
//! two commands run out of order; the edge kept could hang for good). The rule makes it
//! impossible.
//!
//! # Locks
//!
//! Allocation marks are locked together, in address order, while a command is planned (so
//! two timelines planning at once see each other in one order); the timelines' event state is
//! a leaf lock. Catch-ups happen after the allocation locks are released and before the owner
//! takes its own append lock (lists) or submission lock (queues): they wait until the other
//! timeline's owner has appended the command (it is between planning and appending for a
//! moment at most, never blocked on device work: a synchronous timeline publishes a command
//! before it records the command's marks), then take that timeline's lock. No thread holds
//! one of those while waiting for another. A queue's bookkeeping lock is never held across a
//! Level Zero call that may block on device work. A list or queue being dropped still
//! accepts catch-ups: its drop waits again if one was appended during its last wait, so
//! nothing is ever pending on a destroyed handle, and nobody waits for a drop.
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

/// A timeline's events.
#[derive(Default)]
struct Events {
    /// `(covered, event)`: the event is signalled once every command up to `covered` is
    /// done. In the order the publishing barriers were appended (so `covered` ascends).
    published: VecDeque<(u64, Event)>,
    /// Publications made so far: the front of `published` is number
    /// `total - published.len()`.
    total: u64,
    free: Vec<Event>,
    /// Retired publications something else (a waiting command) still holds.
    lent: Vec<Event>,
    /// What commands that could not be appended (or whose device was lost) would have
    /// waited for.
    abandoned: Vec<Abandoned>,
    /// The hazard waits of commands appended and not yet seen finished, by sequence number:
    /// abandoned if the timeline's device is lost.
    inherited: VecDeque<Inherited>,
}

/// The hazard waits of a command of the timeline (see [`Events::inherited`]).
struct Inherited {
    /// The command's sequence number on the timeline.
    seq: u64,
    /// Its plan sequence number.
    plan: u64,
    waits: Arc<Vec<Event>>,
    /// The stamp of each wait (see the module documentation).
    stamps: Vec<u64>,
}

/// An abandoned wait: what a command that will not run would have waited for.
struct Abandoned {
    event: Event,
    /// The plan sequence number of the command the event stands for: below `after`.
    stamp: u64,
    /// The plan sequence number of the command that would have waited: only commands
    /// planned after it wait for the event in its place.
    after: u64,
    /// That command's sequence number on the timeline.
    seq: u64,
    /// Whether the command was appended (and its device lost), rather than given up before
    /// (see [`Timeline::lost`]).
    appended: bool,
}

/// The source of plan sequence numbers (see the module documentation).
static PLANS: AtomicU64 = AtomicU64::new(0);

/// The next plan sequence number (never 0). Taken while the command holds the locks of the
/// allocations it uses: a command that takes one of those locks after it gets a greater
/// number (the read-modify-writes of one atomic are totally ordered, consistently with the
/// order the lock imposes).
fn next_plan() -> u64 {
    PLANS.fetch_add(1, Ordering::Relaxed) + 1
}

/// One timeline, shared with the marks that refer to it.
pub(crate) struct Timeline {
    ctx: Context,
    /// An append (or execution) returns only once it completed.
    synchronous: bool,
    /// Every command up to this sequence number has been appended (or given up).
    appended: AtomicU64,
    /// Every command up to this sequence number is seen finished.
    finished: AtomicU64,
    events: Mutex<Events>,
    /// Whether `events` holds anything but free events (changed under its lock; read without
    /// it to skip the lock when there is nothing to do).
    has_events: AtomicBool,
    /// Whether `events.abandoned` is not empty (likewise).
    has_abandoned: AtomicBool,
    /// The owner's life: [`OPEN`], [`DONE`] (dropped, its work finished: the handle may be
    /// gone) or [`LEAKED`] (dropped with work that may still run; the handle stays). Changed
    /// under the append lock (lists) or the submission lock (queues).
    life: AtomicU8,
    pub(crate) publisher: Publisher,
}

const EVENTS_PER_POOL: u32 = 16;

/// Timeline lives (see [`Timeline::life`]).
pub(crate) const OPEN: u8 = 0;
pub(crate) const DONE: u8 = 1;
pub(crate) const LEAKED: u8 = 2;

/// What a catch-up found.
pub(crate) enum CatchUp {
    /// Wait for this event.
    Wait(Event),
    /// Nothing to wait for: the command is seen finished.
    Finished,
    /// The timeline's device is lost and its work stopped ([`Timeline::lost`] was called):
    /// wait for what its unfinished commands waited for (they will not run), as far as the
    /// waiter was planned after them.
    Lost,
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
    pub(crate) fn new(ctx: &Context, synchronous: bool, publisher: Publisher) -> Arc<Timeline> {
        Arc::new(Timeline {
            ctx: ctx.clone(),
            synchronous,
            appended: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            events: Mutex::new(Events::default()),
            has_events: AtomicBool::new(false),
            has_abandoned: AtomicBool::new(false),
            life: AtomicU8::new(OPEN),
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

    /// The number of publications made so far: a synchronisation that starts now covers
    /// the publications below it.
    pub(crate) fn stamp(&self) -> u64 {
        lock(&self.events).total
    }

    /// The lock serialising appends to an immediate list (none for queues, whose
    /// submissions have their own lock).
    pub(crate) fn append_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.publisher {
            Publisher::List { append, .. } => Some(lock(append)),
            Publisher::Queue(_) => None,
        }
    }

    /// The owner's life (see [`Timeline::life`]).
    pub(crate) fn life(&self) -> u8 {
        self.life.load(Ordering::Acquire)
    }

    /// Sets the owner's life; under the append lock (lists) or submission lock (queues).
    /// Once done, the timeline publishes nothing more and its events go (the timeline itself
    /// may live on in the marks of allocations its commands used).
    pub(crate) fn set_life(&self, life: u8) {
        self.life.store(life, Ordering::Release);
        if life == DONE {
            let mut ev = lock(&self.events);
            ev.free.clear();
            ev.published.clear();
            ev.lent.clear();
            ev.inherited.clear();
        }
    }

    /// The first published event covering command `seq` ([`CatchUp::Wait`]), or
    /// [`CatchUp::Finished`] once the command is seen finished; `None` when no publication
    /// covers it yet.
    ///
    /// Never a later publication: [`Timeline::finished_through`] retires publications only
    /// after it marked what they cover finished, so under the lock a command whose first
    /// publication is gone is seen finished. A later publication may cover commands that
    /// wait, planned after the caller: waiting for it could close a cycle.
    pub(crate) fn publication(&self, seq: u64) -> Option<CatchUp> {
        let ev = lock(&self.events);
        if self.is_finished(seq) {
            return Some(CatchUp::Finished);
        }
        ev.published
            .iter()
            .find(|(covered, _)| *covered >= seq)
            .map(|(_, e)| CatchUp::Wait(e.clone()))
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

    /// Records that `e` is signalled once every command up to `covered` is done; returns the
    /// publication's number.
    fn record(&self, covered: u64, e: &Event) -> u64 {
        let mut ev = lock(&self.events);
        ev.published.push_back((covered, e.clone()));
        ev.total += 1;
        self.has_events.store(true, Ordering::Release);
        ev.total - 1
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
                self.record(covered, &e);
                Ok(e)
            }
            Err(err) => {
                self.return_event(e);
                Err(err)
            }
        }
    }

    /// Every command up to `seq` is seen finished, and so are the publications numbered
    /// below `stamp` (their barriers were appended before the synchronisation that saw the
    /// commands finish).
    pub(crate) fn finished_through(&self, seq: u64, stamp: u64) {
        self.finished.fetch_max(seq, Ordering::AcqRel);
        if !self.has_events.load(Ordering::Acquire) {
            // Nothing published, lent or abandoned: the common case of work that stayed on
            // one list.
            return;
        }
        let mut ev = lock(&self.events);
        while ev.inherited.front().is_some_and(|w| w.seq <= seq) {
            ev.inherited.pop_front();
        }
        loop {
            let index = ev.total - ev.published.len() as u64;
            match ev.published.front() {
                Some((covered, _)) if *covered <= seq && index < stamp => {}
                _ => break,
            }
            // Everything it covers is seen finished: its barrier signalled it (a lost
            // timeline's publications are signalled by `lost`, a publication whose barrier
            // could not be appended by `signal_after`).
            let (_, e) = ev.published.pop_front().expect("checked");
            ev.lent.push(e);
        }
        reclaim(&mut ev);
        prune_abandoned(&mut ev);
        self.has_abandoned
            .store(!ev.abandoned.is_empty(), Ordering::Release);
        self.has_events.store(
            !ev.published.is_empty()
                || !ev.lent.is_empty()
                || !ev.abandoned.is_empty()
                || !ev.inherited.is_empty(),
            Ordering::Release,
        );
    }

    /// Keeps the hazard waits of command `seq` (plan sequence number `plan`) until it is seen
    /// finished.
    fn inherit(&self, seq: u64, plan: u64, waits: &Arc<Vec<Event>>, stamps: &[u64]) {
        let mut ev = lock(&self.events);
        ev.inherited.push_back(Inherited {
            seq,
            plan,
            waits: waits.clone(),
            stamps: stamps.to_vec(),
        });
        self.has_events.store(true, Ordering::Release);
    }

    /// The timeline's device is lost and its work stopped: what its unfinished commands
    /// waited for becomes abandoned waits (their marks stood for work that will not run).
    pub(crate) fn lost(&self) {
        let mut ev = lock(&self.events);
        for w in std::mem::take(&mut ev.inherited) {
            for (e, &stamp) in w.waits.iter().zip(&w.stamps) {
                keep_abandoned(
                    &mut ev.abandoned,
                    Abandoned {
                        event: e.clone(),
                        stamp,
                        after: w.plan,
                        seq: w.seq,
                        appended: true,
                    },
                );
            }
        }
        prune_abandoned(&mut ev);
        self.has_abandoned
            .store(!ev.abandoned.is_empty(), Ordering::Release);
        if !ev.abandoned.is_empty() {
            self.has_events.store(true, Ordering::Release);
        }
        // Its publications: a driver that never signals what a lost device had not run would
        // leave their waiters waiting for good; signal each once what the appended commands
        // it covers waited for is signalled (the CPU driver does the same on the device).
        // A publication is waited for as the first covering some command; the appended
        // commands after that one it covers wait for nothing (rule 2), so these waits are
        // stamped below the waiters' plan sequence numbers and close no cycle (never, in
        // particular, with the publication itself). A command given up before it was
        // appended is not waited for by the publications covering it (the users of its marks
        // take its waits as abandoned waits), except its own pre-published event on a
        // synchronous timeline, which stands for it alone.
        for (covered, e) in &ev.published {
            let mut before: Vec<Event> = Vec::new();
            for a in &ev.abandoned {
                if a.seq <= *covered
                    && (a.appended || self.synchronous)
                    && !before.iter().any(|b| b.as_raw() == a.event.as_raw())
                {
                    before.push(a.event.clone());
                }
            }
            signal_after(e.clone(), before);
        }
    }

    /// Makes the abandoned waits that bind the command being planned (those of commands
    /// planned before it) wait edges of it.
    fn abandoned_waits(&self, needs: &mut Needs) {
        if !self.has_abandoned.load(Ordering::Acquire) {
            return;
        }
        let mut ev = lock(&self.events);
        prune_abandoned(&mut ev);
        self.has_abandoned
            .store(!ev.abandoned.is_empty(), Ordering::Release);
        for a in &ev.abandoned {
            if a.after < needs.plan {
                needs.wait(&a.event, a.stamp);
            }
        }
    }

    /// Keeps what command `seq`, planned as `plan`, which could not be appended, would have
    /// waited for (`waits`, stamped by `stamps`).
    fn abandon(&self, seq: u64, plan: u64, waits: &[Event], stamps: &[u64]) {
        let mut ev = lock(&self.events);
        // Not appended: no publication covers it (see `Timeline::lost`).
        if let Some(i) = ev.inherited.iter().rposition(|w| w.seq == seq) {
            ev.inherited.remove(i);
        }
        if waits.is_empty() {
            return;
        }
        for (e, &stamp) in waits.iter().zip(stamps) {
            keep_abandoned(
                &mut ev.abandoned,
                Abandoned {
                    event: e.clone(),
                    stamp,
                    after: plan,
                    seq,
                    appended: false,
                },
            );
        }
        self.has_abandoned.store(true, Ordering::Release);
        self.has_events.store(true, Ordering::Release);
    }

    /// Makes the command being planned wait until the command of mark `m` (of this
    /// timeline) is done, appending a publication if none covers it yet (nothing once it is
    /// seen finished).
    fn catch_up(self: &Arc<Self>, m: &Mark, needs: &mut Needs) -> Result<()> {
        let seq = m.seq;
        // A synchronous timeline published the command before recording its marks: no need
        // to wait for its owner (who may be blocked until the command completes).
        let found = match self.publication(seq) {
            Some(found) => found,
            None => {
                let mut spins = 0u32;
                // The owner plans a command before appending it; wait until it has appended.
                while self.appended.load(Ordering::Acquire) < seq {
                    backoff(&mut spins);
                }
                match &self.publisher {
                    Publisher::List { handle, append } => {
                        let _g = lock(append);
                        self.catch_up_list(handle, seq)?
                    }
                    Publisher::Queue(q) => match q.upgrade() {
                        Some(q) => q.catch_up(self, seq)?,
                        None => CatchUp::Finished,
                    },
                }
            }
        };
        if let CatchUp::Wait(e) = found {
            // The first publication covering the command stands for it.
            needs.wait(&e, m.plan);
        }
        // On a loss, what `Timeline::lost` just made abandoned waits. Otherwise too: the
        // command may have been given up since this one was planned (the publication found
        // then covers it without waiting for what it would have waited for).
        self.abandoned_waits(needs);
        Ok(())
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
        let r = self.publish(covered, |e| {
            // SAFETY: a live immediate list: open or leaked (`catch_up_known`), so not
            // destroyed, and appended to under its append lock; the event lives in the
            // timeline until the barrier is seen finished.
            unsafe {
                ze!(
                    self.ctx.api(),
                    zeCommandListAppendBarrier(handle.0, e.as_raw(), 0, std::ptr::null_mut())
                )
            }
        });
        match r {
            Ok(e) => Ok(CatchUp::Wait(e)),
            Err(e) if e.is_device_lost() => {
                // The list's device is lost, but a command of it may still be running: its
                // synchronisation reports the loss only once the device stopped. (The owner
                // may synchronise at the same time: the specification allows it.)
                // SAFETY: a live immediate list, as above.
                let r = unsafe {
                    ze!(
                        self.ctx.api(),
                        zeCommandListHostSynchronize(handle.0, u64::MAX)
                    )
                };
                match r {
                    Ok(()) => Ok(CatchUp::Finished),
                    Err(e) if e.is_device_lost() => {
                        self.lost();
                        Ok(CatchUp::Lost)
                    }
                    Err(crate::Error::MissingFunction(_)) => {
                        // A loader without it (before API 1.6): the loss is all there is to
                        // go on.
                        log::warn!(
                            "level-zero: a list's device is lost and the loader cannot wait for it to stop; taking its work as stopped"
                        );
                        self.lost();
                        Ok(CatchUp::Lost)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// What a catch-up finds without appending anything, under the append lock or the
    /// submission lock: `None` when a publication must be appended.
    pub(crate) fn catch_up_known(&self, seq: u64) -> Option<CatchUp> {
        if self.life() == DONE {
            return Some(CatchUp::Finished);
        }
        self.publication(seq)
    }
}

/// Resets retired publications nothing holds any more, for reuse.
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

/// Forgets abandoned waits that are signalled (or whose device is lost).
fn prune_abandoned(ev: &mut Events) {
    ev.abandoned
        .retain(|a| matches!(a.event.is_signaled(), Ok(false)));
}

/// Adds an abandoned wait, unless the same one is there. (The same event taken by two
/// commands stays twice: each binds the commands planned after its own.)
fn keep_abandoned(abandoned: &mut Vec<Abandoned>, a: Abandoned) {
    let same = |b: &Abandoned| {
        b.event.as_raw() == a.event.as_raw()
            && b.stamp == a.stamp
            && b.after == a.after
            && b.seq == a.seq
            && b.appended == a.appended
    };
    if !abandoned.iter().any(same) {
        abandoned.push(a);
    }
}

/// A use of an allocation by command `seq` of `timeline`, planned as `plan`.
#[derive(Clone)]
struct Mark {
    timeline: Arc<Timeline>,
    seq: u64,
    plan: u64,
}

impl Mark {
    /// Whether nothing needs to wait for the mark: its command is seen finished and its
    /// timeline has no abandoned waits (which later users must wait for too).
    fn is_finished(&self) -> bool {
        self.timeline.is_finished(self.seq) && !self.timeline.has_abandoned.load(Ordering::Acquire)
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
    /// The command's plan sequence number (taken by [`plan`]).
    plan: u64,
    events: Vec<Event>,
    /// The stamp of each event (see the module documentation).
    stamps: Vec<u64>,
    catch_up: Vec<Mark>,
}

impl Needs {
    /// Makes the command wait for `event`, which stands for the command planned as `stamp`.
    /// The one place a wait edge is made: it checks the invariant of the module (every wait
    /// edge points to an event of a strictly earlier plan sequence, so waits form no
    /// cycle). An edge that broke it is dropped and logged rather than kept: kept, it could
    /// hang the device and the host for good.
    fn wait(&mut self, event: &Event, stamp: u64) {
        if stamp >= self.plan {
            log::error!(
                "level-zero: a hazard wait for an event of plan sequence {stamp} by a command of plan sequence {} breaks the plan order: dropped (a bug of the hazard tracker)",
                self.plan
            );
            return;
        }
        match self
            .events
            .iter()
            .position(|e| e.as_raw() == event.as_raw())
        {
            Some(i) => self.stamps[i] = self.stamps[i].max(stamp),
            None => {
                self.events.push(event.clone());
                self.stamps.push(stamp);
            }
        }
    }

    /// Makes the command wait for the use of mark `m` (of another timeline).
    fn add(&mut self, m: &Mark) {
        if !m.timeline.is_finished(m.seq) {
            match m.timeline.publication(m.seq) {
                // The first publication covering the command stands for it.
                Some(CatchUp::Wait(e)) => self.wait(&e, m.plan),
                Some(_) => {}
                None => match self.catch_up.iter_mut().find(|c| c.on(&m.timeline)) {
                    Some(c) if c.seq < m.seq => *c = m.clone(),
                    Some(_) => {}
                    None => self.catch_up.push(m.clone()),
                },
            }
        }
        // After the look-up: a publication found may have been made after a command it
        // covers was given up, and then it does not wait for what that command would have.
        m.timeline.abandoned_waits(self);
    }
}

impl Marks {
    /// Whether a use of the allocation may still be unfinished.
    pub(crate) fn pending(&self) -> bool {
        self.writes
            .iter()
            .chain(&self.reads)
            .any(|m| !m.timeline.is_finished(m.seq))
    }

    /// Adds what command `seq` of `me` (plan sequence number `needs.plan`) must wait for to
    /// `write` (or read) this allocation in program order, then records the command's use.
    fn plan(&mut self, me: &Arc<Timeline>, seq: u64, write: bool, needs: &mut Needs) {
        let plan = needs.plan;
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
            only.plan = plan;
            return;
        }
        if !write
            && let [only] = &mut self.reads[..]
            && only.on(me)
            && self.writes.iter().all(|w| w.on(me))
        {
            // Reading again what only this timeline used.
            only.seq = seq;
            only.plan = plan;
            return;
        }
        let mark = Mark {
            timeline: me.clone(),
            seq,
            plan,
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
    /// Its plan sequence number (0 for a command that is not tracked).
    plan: u64,
    /// The events the command must wait for (hazards); kept by its timeline until it is
    /// seen finished, and by its list until then.
    waits: Option<Arc<Vec<Event>>>,
    /// The stamp of each of `waits`.
    stamps: Vec<u64>,
    /// Whether a publication must precede the command (rule 2): the caller appends it with
    /// [`Issued::publish_before`].
    pub(crate) publish: bool,
    /// On a synchronous timeline: the event the command signals (or a barrier right after
    /// it), already published.
    pub(crate) signal: Option<Event>,
}

impl<'a> Issued<'a> {
    /// The events the command must wait for (hazards).
    pub(crate) fn waits(&self) -> &[Event] {
        self.waits.as_deref().map_or(&[], Vec::as_slice)
    }

    /// What keeps those events alive until the command is seen finished, if there are any.
    pub(crate) fn waits_keep(&self) -> Option<Arc<Vec<Event>>> {
        self.waits.clone()
    }

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
        self.timeline.publish(covered, append)?;
        *self.last_published = covered;
        Ok(())
    }

    /// The command could not be appended. Its marks stay (they may already hide older ones
    /// from other timelines), so later users of the timeline's marks must still wait for
    /// what it would have waited for: its timeline keeps those events (see the module
    /// documentation). Its pre-published event (synchronous timelines), which others may
    /// already wait for, is signalled once those events are.
    pub(crate) fn abandon(mut self) {
        let waits: Vec<Event> = self.waits().to_vec();
        if let Some(e) = self.signal.take() {
            signal_after(e, waits.clone());
        }
        self.timeline
            .abandon(self.seq, self.plan, &waits, &self.stamps);
    }
}

/// Signals `e` from the host once every event of `waits` is signalled, without blocking the
/// caller (a helper thread waits; it ends when they are signalled, or their device is lost).
pub(crate) fn signal_after(e: Event, waits: Vec<Event>) {
    let done = waits.iter().all(|w| !matches!(w.is_signaled(), Ok(false)));
    let signal = move || {
        for w in &waits {
            if let Err(err) = w.host_synchronize() {
                log::error!("level-zero: waiting to signal a hazard event: {err}");
            }
        }
        if let Err(err) = e.host_signal() {
            log::error!("level-zero: signalling a hazard event failed: {err}");
        }
    };
    if done {
        signal();
    } else if let Err(err) = std::thread::Builder::new()
        .name("level-zero-hazard".into())
        .spawn(signal)
    {
        // Never signalled: who waits for it waits for good rather than too early.
        log::error!("level-zero: no thread to signal a hazard event: {err}");
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
    /// The last sequence number handed out.
    pub(crate) fn last(&self) -> u64 {
        self.last
    }

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
    /// appending publications to other timelines where needed), and decides what it
    /// publishes. The caller appends it (with the append or submission lock), then drops
    /// the result (or [`abandon`](Issued::abandon)s it).
    pub(crate) fn issue<U: Borrow<Use>>(
        &mut self,
        uses: &[U],
        user_waits: bool,
    ) -> Result<Issued<'_>> {
        self.last += 1;
        let seq = self.last;
        let earlier_mark = self.last_mark;
        let tracked = !uses.is_empty() && self.timeline.ctx.hazard_tracking();
        // Gives the command up before anything was appended.
        let give_up = |tl: &Timeline, plan: u64, waits: &[Event], stamps: &[u64], e| {
            tl.abandon(seq, plan, waits, stamps);
            tl.appended.fetch_max(seq, Ordering::AcqRel);
            e
        };
        let mut signal = None;
        if tracked && self.timeline.synchronous {
            // Published before its marks exist: anyone who sees them finds the event, and
            // never waits for the owner, whose append returns only once the command
            // completed.
            let e = self
                .timeline
                .take_event()
                .map_err(|e| give_up(&self.timeline, 0, &[], &[], e))?;
            self.timeline.record(seq, &e);
            self.last_published = seq;
            signal = Some(e);
        }
        let mut needs = Needs::default();
        if tracked {
            plan(&self.timeline, seq, uses, &mut needs);
            self.last_mark = seq;
            #[cfg(all(test, feature = "cpu"))]
            tests::after_plan();
            for m in std::mem::take(&mut needs.catch_up) {
                if let Err(e) = m.timeline.catch_up(&m, &mut needs) {
                    if let Some(sig) = signal.take() {
                        signal_after(sig, needs.events.clone());
                    }
                    return Err(give_up(
                        &self.timeline,
                        needs.plan,
                        &needs.events,
                        &needs.stamps,
                        e,
                    ));
                }
            }
        }
        let Needs {
            plan,
            events,
            stamps,
            ..
        } = needs;
        let waits = (!events.is_empty()).then(|| {
            let waits = Arc::new(events);
            self.timeline.inherit(seq, plan, &waits, &stamps);
            waits
        });
        // Rule 2: a command that waits is preceded by a publication of the commands before
        // it that recorded marks and are neither covered nor seen finished yet.
        let publish = (user_waits || waits.is_some())
            && earlier_mark > self.last_published
            && !self.timeline.is_finished(earlier_mark);
        Ok(Issued {
            timeline: &self.timeline,
            last_published: &mut self.last_published,
            seq,
            plan,
            waits,
            stamps,
            publish,
            signal,
        })
    }
}

/// Records the marks of command `seq` of `me` on the allocations of `uses` and collects what
/// it must wait for: every allocation once (a write if any use writes), all locked together
/// in address order so that two timelines planning at once are ordered one way. The command
/// takes its plan sequence number (`needs.plan`) while it holds those locks.
fn plan<U: Borrow<Use>>(me: &Arc<Timeline>, seq: u64, uses: &[U], needs: &mut Needs) {
    fn one<U: Borrow<Use>>(u: &U) -> (&Arc<Allocation>, bool) {
        let u = u.borrow();
        (&u.alloc, u.write)
    }
    match uses {
        [] => {}
        [a] => {
            let (a, w) = one(a);
            let mut g = lock(&a.hazards);
            needs.plan = next_plan();
            g.plan(me, seq, w, needs);
        }
        // The common case of copies: no allocation for sorting.
        [a, b] => {
            let ((a, wa), (b, wb)) = (one(a), one(b));
            if Arc::ptr_eq(&a.hazards, &b.hazards) {
                let mut g = lock(&a.hazards);
                needs.plan = next_plan();
                g.plan(me, seq, wa | wb, needs);
            } else {
                let ((first, wf), (second, ws)) =
                    if Arc::as_ptr(&a.hazards) < Arc::as_ptr(&b.hazards) {
                        ((a, wa), (b, wb))
                    } else {
                        ((b, wb), (a, wa))
                    };
                let mut g1 = lock(&first.hazards);
                let mut g2 = lock(&second.hazards);
                needs.plan = next_plan();
                g1.plan(me, seq, wf, needs);
                g2.plan(me, seq, ws, needs);
            }
        }
        _ => {
            // Keyed by the marks, not the allocation: allocations of the same memory share
            // them (see `Allocation::adopt`), and each is locked once.
            let mut allocs: Vec<(&Arc<Allocation>, bool)> = uses.iter().map(one).collect();
            allocs.sort_unstable_by_key(|(a, _)| Arc::as_ptr(&a.hazards));
            allocs.dedup_by(|(a, w), (b, wb)| {
                let same = Arc::ptr_eq(&a.hazards, &b.hazards);
                if same {
                    *wb |= *w;
                }
                same
            });
            let mut guards: Vec<_> = allocs.iter().map(|(a, _)| lock(&a.hazards)).collect();
            needs.plan = next_plan();
            for (g, (_, write)) in guards.iter_mut().zip(&allocs) {
                g.plan(me, seq, *write, needs);
            }
        }
    }
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    use std::cell::RefCell;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use crate::{
        Context, Device, HostBuffer, ImmediateCommandList, QueueDesc, QueueMode, Result, cpu,
    };

    thread_local! {
        /// Run by the next tracked command this thread issues, between its planning and its
        /// catch-ups: what another thread may do in that moment.
        static AFTER_PLAN: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
    }

    pub(super) fn after_plan() {
        if let Some(hook) = AFTER_PLAN.with(|h| h.borrow_mut().take()) {
            hook();
        }
    }

    fn wait_lost(device: &Device) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !device.status().is_err_and(|e| e.is_device_lost()) {
            assert!(Instant::now() < deadline, "the device was not lost");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Three timelines on three devices, the third lost; everything on the host's
    /// timetable, so the cycle of finding 8 of the fourth red-team round
    /// (`tests/redteam4.rs`) forms every time:
    ///
    /// 1. B (device 2) fills `z`: B's command b0, unfinished and unpublished; device 2 is
    ///    lost (b0 never runs).
    /// 2. S, a synchronous list (device 0), copies `z` to `x`: it publishes its event E,
    ///    plans (waits for b0: a catch-up on B), and before that catch-up:
    ///    - A (device 1) copies `x` to `y`: waits for E;
    ///    - B copies `y` to `v`: catches up on A (a publication P of A, after A's copy, so
    ///      after E) and is abandoned (its device is lost): P becomes an abandoned wait of B.
    /// 3. S's catch-up on B finds B lost. Handed B's abandoned waits, S's copy would wait for
    ///    P, which waits for E, which only S's copy signals: S's append would never return.
    ///    B's copy was planned after S's: its abandoned waits do not bind S.
    fn abandoned_waits_of_a_later_command() -> Result<()> {
        let mut config = cpu::Config::default();
        config.devices = 3;
        // The third submission of a device loses it: only device 2 gets that far.
        config.device_lost_after = Some(2);
        let driver = cpu::driver(config)?;
        let devs = driver.devices()?;
        let ctx = Context::new(&driver)?;
        let x = HostBuffer::<u32>::new(&ctx, 64)?;
        let y = HostBuffer::<u32>::new(&ctx, 64)?;
        let z = HostBuffer::from_slice(&ctx, &[7u32; 64])?;
        let v = HostBuffer::<u32>::new(&ctx, 64)?;
        let w = HostBuffer::<u32>::new(&ctx, 64)?;
        let sync = QueueDesc {
            mode: QueueMode::Synchronous,
            ..QueueDesc::compute(&devs[0])?
        };
        let mut s = ImmediateCommandList::new(&ctx, &devs[0], &sync)?;
        let a = ImmediateCommandList::compute(&ctx, &devs[1])?;
        let mut b = ImmediateCommandList::compute(&ctx, &devs[2])?;
        for _ in 0..2 {
            b.fill(&w, 0)?;
            b.synchronize()?;
        }
        b.fill(&z, 1)?;
        wait_lost(&devs[2]);

        let lists = std::rc::Rc::new(RefCell::new(Some((a, b))));
        let in_hook = lists.clone();
        let (x, y, z, v) = (
            std::sync::Arc::new(x),
            std::sync::Arc::new(y),
            std::sync::Arc::new(z),
            std::sync::Arc::new(v),
        );
        let (hx, hy, hv) = (x.clone(), y.clone(), v.clone());
        AFTER_PLAN.with(|h| {
            *h.borrow_mut() = Some(Box::new(move || {
                let mut g = in_hook.borrow_mut();
                let (a, b) = g.as_mut().expect("the lists");
                a.copy(&*hy, &*hx).expect("A's copy");
                let lost = b.copy(&*hv, &*hy);
                assert!(
                    lost.as_ref().is_err_and(|e| e.is_device_lost()),
                    "B's copy: {lost:?}"
                );
            }))
        });
        s.copy(&*x, &*z)?;
        assert!(
            AFTER_PLAN.with(|h| h.borrow().is_none()),
            "the hook did not run"
        );
        let (mut a, mut b) = lists.borrow_mut().take().expect("the lists");
        s.synchronize()?;
        a.synchronize()?;
        assert!(b.synchronize().is_err_and(|e| e.is_device_lost()));
        assert_eq!(x.to_vec()?, vec![7; 64]);
        assert_eq!(y.to_vec()?, vec![7; 64]);
        drop((s, a, b));
        Ok(())
    }

    #[test]
    fn an_abandoned_wait_binds_no_command_planned_before_the_command_that_took_it() {
        let (tx, rx) = mpsc::channel();
        let h = std::thread::spawn(move || {
            abandoned_waits_of_a_later_command().unwrap();
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(()) => h.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(p) = h.join() {
                    std::panic::resume_unwind(p);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("HANG: a synchronous list waits for its own event through a third timeline")
            }
        }
    }
}
