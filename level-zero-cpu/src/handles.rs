//! Handles: every handle this driver gives out is a key into one registry of live objects,
//! never a pointer that the driver dereferences.
//!
//! A handle's value is `serial << 5 | kind`, with a serial that is never reused, so a stale
//! handle (its object destroyed) is never mistaken for a newer object; a wrong-type handle is
//! caught by the kind stored with the object. Looking a handle up clones an `Arc` to the
//! object under a read lock, so an object destroyed concurrently stays alive until the call
//! that is using it returns: no use-after-free is reachable through any handle value, whatever
//! its origin.
//!
//! Codes: a null handle gives `ZE_RESULT_ERROR_INVALID_NULL_HANDLE`; an unknown, stale or
//! wrong-type handle gives `ZE_RESULT_ERROR_INVALID_ARGUMENT` (event handles:
//! `ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT` where the specification lists it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use level_zero_sys::ze_result_t;

use crate::context::Context;
use crate::driver::Instance;
use crate::event::{Event, EventPool};
use crate::fence::Fence;
use crate::ffi::{ZeResult, fail};
use crate::graph::{ExecutableGraph, Graph};
use crate::image::Image;
use crate::list::CommandList;
use crate::module::{BuildLog, Kernel, Module};
use crate::queue::CommandQueue;
use crate::sampler::Sampler;
use crate::sync::lock_read;
use crate::sysman::SysmanMemoryRef;

/// A device: its instance and its index there.
#[derive(Clone, Copy)]
pub(crate) struct DeviceRef {
    pub(crate) instance: &'static Instance,
    pub(crate) index: usize,
}

/// What a handle designates.
#[derive(Clone)]
pub(crate) enum Object {
    Driver(&'static Instance),
    Device(DeviceRef),
    Context(Arc<Context>),
    CommandQueue(Arc<CommandQueue>),
    CommandList(Arc<CommandList>),
    EventPool(Arc<EventPool>),
    Event(Arc<Event>),
    Fence(Arc<Fence>),
    Module(Arc<Module>),
    Kernel(Arc<Kernel>),
    BuildLog(Arc<BuildLog>),
    SysmanMemory(SysmanMemoryRef),
    Image(Arc<Image>),
    Sampler(Arc<Sampler>),
    Graph(Arc<Graph>),
    ExecutableGraph(Arc<ExecutableGraph>),
    PhysicalMem(Arc<crate::vm::Physical>),
}

impl Object {
    fn kind(&self) -> u64 {
        match self {
            Object::Driver(_) => 1,
            Object::Device(_) => 2,
            Object::Context(_) => 3,
            Object::CommandQueue(_) => 4,
            Object::CommandList(_) => 5,
            Object::EventPool(_) => 6,
            Object::Event(_) => 7,
            Object::Fence(_) => 8,
            Object::Module(_) => 9,
            Object::Kernel(_) => 10,
            Object::BuildLog(_) => 11,
            Object::SysmanMemory(_) => 12,
            Object::Image(_) => 13,
            Object::Sampler(_) => 14,
            Object::Graph(_) => 15,
            Object::ExecutableGraph(_) => 16,
            Object::PhysicalMem(_) => 17,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Object::Driver(_) => "driver",
            Object::Device(_) => "device",
            Object::Context(_) => "context",
            Object::CommandQueue(_) => "command queue",
            Object::CommandList(_) => "command list",
            Object::EventPool(_) => "event pool",
            Object::Event(_) => "event",
            Object::Fence(_) => "fence",
            Object::Module(_) => "module",
            Object::Kernel(_) => "kernel",
            Object::BuildLog(_) => "module build log",
            Object::SysmanMemory(_) => "sysman memory module",
            Object::Image(_) => "image",
            Object::Sampler(_) => "sampler",
            Object::Graph(_) => "graph",
            Object::ExecutableGraph(_) => "executable graph",
            Object::PhysicalMem(_) => "physical memory object",
        }
    }
}

static REGISTRY: LazyLock<RwLock<HashMap<u64, Object>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));
static SERIAL: AtomicU64 = AtomicU64::new(0x100);

fn reserve_kind(kind: u64) -> u64 {
    (SERIAL.fetch_add(1, Ordering::Relaxed) << 5) | kind
}

/// Reserves a handle value for objects of the kind of `T`.
pub(crate) fn reserve_for<T: Handle>() -> u64 {
    reserve_kind(T::KIND)
}

/// Makes `handle` designate `object`.
pub(crate) fn register(handle: u64, object: Object) {
    debug_assert_eq!(handle & 0x1f, object.kind());
    crate::sync::lock_write(&REGISTRY).insert(handle, object);
}

/// Removes a handle: later lookups of it fail. Returns the object if it was live.
pub(crate) fn unregister(handle: u64) -> Option<Object> {
    crate::sync::lock_write(&REGISTRY).remove(&handle)
}

/// A type a handle can designate.
pub(crate) trait Handle: Sized {
    /// The kind number stored in the handle's low bits.
    const KIND: u64;
    /// What it is called in error messages.
    const NAME: &'static str;
    /// The object, if `object` is of this type.
    fn from_object(object: &Object) -> Option<Self>;
}

macro_rules! handle_types {
    ($($ty:ty => $variant:ident, $kind:expr, $name:expr;)*) => {$(
        impl Handle for $ty {
            const KIND: u64 = $kind;
            const NAME: &'static str = $name;
            fn from_object(object: &Object) -> Option<Self> {
                match object {
                    Object::$variant(x) => Some(x.clone()),
                    _ => None,
                }
            }
        }
    )*};
}

handle_types! {
    &'static Instance => Driver, 1, "driver";
    DeviceRef => Device, 2, "device";
    Arc<Context> => Context, 3, "context";
    Arc<CommandQueue> => CommandQueue, 4, "command queue";
    Arc<CommandList> => CommandList, 5, "command list";
    Arc<EventPool> => EventPool, 6, "event pool";
    Arc<Event> => Event, 7, "event";
    Arc<Fence> => Fence, 8, "fence";
    Arc<Module> => Module, 9, "module";
    Arc<Kernel> => Kernel, 10, "kernel";
    Arc<BuildLog> => BuildLog, 11, "module build log";
    SysmanMemoryRef => SysmanMemory, 12, "sysman memory module";
    Arc<Image> => Image, 13, "image";
    Arc<Sampler> => Sampler, 14, "sampler";
    Arc<Graph> => Graph, 15, "graph";
    Arc<ExecutableGraph> => ExecutableGraph, 16, "executable graph";
    Arc<crate::vm::Physical> => PhysicalMem, 17, "physical memory object";
}

/// Looks a raw handle up: `ZE_RESULT_ERROR_INVALID_NULL_HANDLE` for null,
/// `ZE_RESULT_ERROR_INVALID_ARGUMENT` for an unknown, stale or wrong-type handle.
pub(crate) fn get<T: Handle, R>(raw: *mut R) -> ZeResult<T> {
    get_or(raw, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT)
}

/// [`get`], with `invalid` as the code for a non-null handle that is not a live `T`.
pub(crate) fn get_or<T: Handle, R>(raw: *mut R, invalid: ze_result_t) -> ZeResult<T> {
    let key = raw as usize as u64;
    if key == 0 {
        return Err(fail(
            ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            format!("null {} handle", T::NAME),
        ));
    }
    let registry = lock_read(&REGISTRY);
    match registry.get(&key) {
        Some(object) => T::from_object(object).ok_or_else(|| {
            fail(
                invalid,
                format!("handle {key:#x} is a {}, not a {}", object.name(), T::NAME),
            )
        }),
        None => Err(fail(
            invalid,
            format!("{} handle {key:#x} is unknown or was destroyed", T::NAME),
        )),
    }
}

/// A handle value as the raw pointer type of the C API.
pub(crate) fn raw<R>(handle: u64) -> *mut R {
    handle as usize as *mut R
}

/// Destroys an object: looks `raw` up as a `T` and unregisters it. The returned `Arc` is the
/// last reference the registry had; work in flight may still hold others.
pub(crate) fn take<T: Handle, R>(raw: *mut R) -> ZeResult<T> {
    let object = get::<T, R>(raw)?;
    // Two destroys racing: only one unregisters.
    if unregister(raw as usize as u64).is_none() {
        return Err(fail(
            ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
            format!("{} handle was destroyed concurrently", T::NAME),
        ));
    }
    Ok(object)
}
