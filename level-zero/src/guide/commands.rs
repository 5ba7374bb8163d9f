//! Command lists and ordering: how work gets to the device, and in what order it runs.
//!
//! # Immediate lists
//!
//! An [`ImmediateCommandList`](crate::ImmediateCommandList) submits each command as it is
//! appended — the closest thing to a CUDA stream, and what most code wants.
//! [`synchronize`](crate::ImmediateCommandList::synchronize) waits for everything appended so
//! far (and is the moment the list releases what finished commands kept alive).
//! [`compute`](crate::ImmediateCommandList::compute) picks the device's compute engine,
//! [`copy_engine`](crate::ImmediateCommandList::copy_engine) its best copy engine, and
//! [`new`](crate::ImmediateCommandList::new) any engine by [`QueueDesc`](crate::QueueDesc).
//!
//! # Regular lists and queues
//!
//! A [`CommandList`](crate::CommandList) is recorded once, closed, and executed on a
//! [`CommandQueue`](crate::CommandQueue) as often as wanted. A
//! [`Fence`](crate::Fence) tells when one execution finished; the queue keeps the list's
//! resources alive until it has seen that.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{CommandList, CommandQueue, DeviceBuffer, Fence, ImmediateCommandList};
//!
//! let a = DeviceBuffer::<u16>::new(&ctx, device, 4096)?;
//! let b = DeviceBuffer::<u16>::new(&ctx, device, 4096)?;
//! let mut list = CommandList::compute(&ctx, device)?;
//! list.fill(&a, 3)?;
//! list.copy(&b, &a)?;
//! list.close()?;
//!
//! let mut queue = CommandQueue::compute(&ctx, device)?;
//! let mut fence = Fence::new(&queue)?;
//! for _ in 0..4 {
//!     queue.execute_with_fence(&[&list], &fence)?;
//!     fence.synchronize()?;
//!     fence.reset()?; // for the next execution
//! }
//! queue.execute(&[&list])?;
//! queue.synchronize()?;
//!
//! let mut imm = ImmediateCommandList::compute(&ctx, device)?;
//! assert!(b.to_vec(&mut imm)?.iter().all(|&x| x == 3));
//! # Ok(()) }
//! ```
//!
//! # Order within a list
//!
//! Level Zero lets the commands of one list overlap unless barriers or events order them.
//! This crate's lists are **in order by default** ([`Ordering::InOrder`](crate::Ordering)):
//! each command starts after the previous one completed, as in a CUDA stream. The driver is
//! asked to do that itself (the in-order list flag, no extra command; see
//! [`is_ordered_by_driver`](crate::ImmediateCommandList::is_ordered_by_driver)); on a driver
//! that refuses the flag, a barrier goes between commands instead.
//! [`Ordering::Relaxed`](crate::Ordering::Relaxed) gives Level Zero's own behaviour, for code
//! that places its own [`barrier`](crate::ImmediateCommandList::barrier)s and events.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, ImmediateCommandList, Ordering, QueueDesc};
//!
//! let desc = QueueDesc { ordering: Ordering::Relaxed, ..QueueDesc::compute(device)? };
//! let mut list = ImmediateCommandList::new(&ctx, device, &desc)?;
//! let (a, b) = (DeviceBuffer::<u8>::new(&ctx, device, 64)?, DeviceBuffer::<u8>::new(&ctx, device, 64)?);
//! list.fill(&a, 1)?;
//! list.fill(&b, 2)?; // may overlap with the first fill: they touch different memory
//! list.barrier()?; // everything above completes before anything below starts
//! list.copy(&a, &b)?;
//! list.synchronize()?;
//! # Ok(()) }
//! ```
//!
//! # Order between lists: hazard tracking
//!
//! Two lists (or queues) run concurrently. When commands of *different* lists of a context
//! use the same buffer, the crate makes them run in the order the host issued them — read
//! after write, write after read, write after write — by making the later command wait on
//! the device for the earlier one ([`crate::hazard`]). A program reads as sequential code;
//! work that stays on one list pays no event for it.
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, ImmediateCommandList};
//!
//! let mut producer = ImmediateCommandList::compute(&ctx, device)?;
//! let mut consumer = ImmediateCommandList::copy_engine(&ctx, device)?;
//! let buf = DeviceBuffer::<u32>::new(&ctx, device, 1 << 16)?;
//! producer.fill(&buf, 42)?; // not synchronised...
//! let mut out = vec![0; 1 << 16];
//! consumer.copy_to_slice(&mut out, &buf)?; // ...yet this copy waits for the fill
//! assert!(out.iter().all(|&x| x == 42));
//! # Ok(()) }
//! ```
//!
//! Code that orders its lists itself may turn tracking off for a context
//! ([`Context::disable_hazard_tracking`](crate::Context::disable_hazard_tracking), `unsafe`).
//!
//! # Events
//!
//! [`Event`](crate::Event)s are the explicit signals: a command signals one
//! ([`signal_event`](crate::ImmediateCommandList::signal_event), or the `signal` argument of
//! [`barrier_with`](crate::ImmediateCommandList::barrier_with) and
//! [`launch_with`](crate::ImmediateCommandList::launch_with)), another list waits for it
//! ([`wait_events`](crate::ImmediateCommandList::wait_events)), the host waits with
//! [`host_synchronize`](crate::Event::host_synchronize). Pool events come from an
//! [`EventPool`](crate::EventPool) and are reset before reuse;
//! [`Event::counter_based`](crate::Event::counter_based) events (spec 1.15) re-arm
//! themselves, and are the cheap choice on current drivers. A pool made with
//! [`EventPoolFlags::KERNEL_TIMESTAMP`](crate::EventPoolFlags::KERNEL_TIMESTAMP) gives events
//! that carry a command's start and end time ([`Event::kernel_timestamp`](crate::Event::kernel_timestamp)).
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, EventPool, EventPoolFlags, ImmediateCommandList};
//!
//! let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE)?;
//! let ready = pool.event(0)?;
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let buf = DeviceBuffer::<f32>::new(&ctx, device, 1024)?;
//! list.fill(&buf, 0.5)?;
//! list.signal_event(&ready)?;
//! ready.host_synchronize()?; // the host waits for the fill, not for the whole list
//! assert!(ready.is_signaled()?);
//! ready.host_reset()?; // ready for the next round
//! # list.synchronize()?;
//! # Ok(()) }
//! ```
//!
//! # Host functions
//!
//! [`host_fn`](crate::ImmediateCommandList::host_fn) appends a closure the host runs when
//! the list reaches it, in order with the device work (spec 1.17's
//! `zeCommandListAppendHostFunction`, emulated with a host thread on older drivers). The
//! closure is kept alive until the list has seen it run; a panic in it is caught; Level Zero
//! calls made from inside it are refused with an error rather than risking a deadlock
//! ([`crate::host_function`] has the rules).
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use std::sync::{Arc, Mutex};
//! use level_zero::{DeviceBuffer, ImmediateCommandList};
//!
//! let log = Arc::new(Mutex::new(Vec::new()));
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let buf = DeviceBuffer::<u8>::new(&ctx, device, 16)?;
//! list.fill(&buf, 1)?;
//! let l = log.clone();
//! list.host_fn(move || l.lock().unwrap().push("after the fill"))?;
//! list.synchronize()?;
//! assert_eq!(*log.lock().unwrap(), ["after the fill"]);
//! # Ok(()) }
//! ```
//!
//! # Graphs
//!
//! A sequence of commands that repeats — one training step, one frame — can be captured once
//! and replayed: [`capture`](crate::ImmediateCommandList::capture) records what a closure
//! appends to a [`Capture`](crate::Capture), [`Graph::instantiate`](crate::Graph::instantiate)
//! prepares it, [`replay`](crate::ImmediateCommandList::replay) runs it in one call. Graphs
//! keep what their commands use alive, and a replay is ordered with other lists like any
//! command. Drivers before spec 1.17 get the same behaviour through a regular list
//! ([`Graph::is_native`](crate::Graph::is_native) tells which).
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, ImmediateCommandList};
//!
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! let (a, b) = (DeviceBuffer::<u32>::new(&ctx, device, 256)?, DeviceBuffer::<u32>::new(&ctx, device, 256)?);
//! let step = list.capture(|g| {
//!     g.fill(&a, 5)?;
//!     g.copy(&b, &a)
//! })?.instantiate()?;
//! for _ in 0..10 {
//!     list.replay(&step)?;
//! }
//! assert!(b.to_vec(&mut list)?.iter().all(|&x| x == 5));
//! # Ok(()) }
//! ```
//!
//! # Threads
//!
//! Lists and queues are `Send` but not `Sync`, and take `&mut self` to record: Level Zero
//! forbids two threads appending to one list at once. Give each thread its own list; hazard
//! tracking orders their work on shared buffers. Everything else (contexts, buffers, events,
//! modules) is `Send + Sync`.
