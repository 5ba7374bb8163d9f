//! Contexts, and residency (`zeContextMakeMemoryResident`/`EvictMemory`), recorded per device.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use level_zero_sys::*;

use crate::driver::Instance;
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};

/// A context: the devices it spans.
pub(crate) struct Context {
    pub(crate) instance: &'static Instance,
    pub(crate) handle: u64,
    /// Indices of its devices.
    pub(crate) devices: Vec<usize>,
    /// Its live command queues, command lists, event pools, modules, images and samplers
    /// (allocations are counted in the allocation table).
    pub(crate) children: AtomicU32,
}

/// A context's count of one live object created in it: taken at creation, given back by the
/// object's destroy call (not when its memory goes: work that ran keeps references a little
/// longer, and the application's view is the handle's).
pub(crate) struct Child(pub(crate) Arc<Context>);

impl Child {
    pub(crate) fn of(context: &Arc<Context>) -> Child {
        context.children.fetch_add(1, Ordering::AcqRel);
        Child(context.clone())
    }

    /// Gives the count back: once, from the object's destroy call (after its handle was taken).
    pub(crate) fn release(&self) {
        self.0.children.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Context {
    /// `ZE_RESULT_ERROR_INVALID_ARGUMENT` unless `d` is one of this context's devices.
    pub(crate) fn check_device(&self, d: &DeviceRef) -> ZeResult {
        if !std::ptr::eq(d.instance, self.instance) || !self.devices.contains(&d.index) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "the device is not part of this context"
            );
        }
        Ok(())
    }

    /// A device handle checked to be one of this context's devices.
    pub(crate) fn device(&self, raw: ze_device_handle_t) -> ZeResult<DeviceRef> {
        let d = self.instance.own_device(raw)?;
        self.check_device(&d)?;
        Ok(d)
    }
}

fn create(
    hDriver: ze_driver_handle_t,
    desc: *const ze_context_desc_t,
    devices: Option<&[ze_device_handle_t]>,
    phContext: *mut ze_context_handle_t,
) -> ZeResult {
    let instance: &'static Instance = handles::get(hDriver)?;
    // SAFETY: a non-null descriptor is the caller's.
    let desc = unsafe { ffi::read(desc)? };
    // SAFETY: the descriptor's chain (caller's contract). No extension of contexts is
    // implemented (the power-saving hint among them).
    unsafe { crate::chain::input(&desc, &[])? };
    if desc.flags > 0x1 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "context flags {:#x}",
            desc.flags
        );
    }
    if phContext.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phContext");
    }
    let devices = match devices {
        None | Some([]) => (0..instance.devices.len()).collect(),
        Some(list) => {
            let mut v = Vec::new();
            for &h in list {
                let d = instance.own_device(h)?;
                // A device's sub-devices belong to the context with it.
                let place = &instance.devices[d.index].place;
                for i in std::iter::once(d.index).chain(place.subdevices.iter().copied()) {
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
            }
            v
        }
    };
    let handle = handles::reserve_for::<Arc<Context>>();
    let context = Arc::new(Context {
        instance,
        handle,
        devices,
        children: AtomicU32::new(0),
    });
    handles::register(handle, Object::Context(context));
    instance.live.contexts.fetch_add(1, Ordering::Relaxed);
    // SAFETY: checked non-null; the caller's output.
    unsafe { ffi::write(phContext, handles::raw(handle)) }
}

/// The handle of `instance`'s default context (`zeDriverGetDefaultContext`,
/// `zerGetDefaultContext`): a context of all its devices, sub-devices included, made on first
/// use and owned by the driver. The specification gives it no destruction:
/// `zeContextDestroy` refuses it (`ZE_RESULT_ERROR_INVALID_ARGUMENT`), and it is not counted
/// among the live objects (it is the driver's, like its devices). Objects created in it are
/// counted as in any context.
pub(crate) fn default_context(instance: &'static Instance) -> u64 {
    *instance.default_context.get_or_init(|| {
        let handle = handles::reserve_for::<Arc<Context>>();
        let context = Arc::new(Context {
            instance,
            handle,
            devices: (0..instance.devices.len()).collect(),
            children: AtomicU32::new(0),
        });
        handles::register(handle, Object::Context(context));
        handle
    })
}

/// Checks a residency request: the range lies inside one allocation of the context.
fn resident_range(context: &Context, ptr: *mut c_void, size: usize) -> ZeResult<usize> {
    if ptr.is_null() {
        bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null ptr");
    }
    let p = ptr as usize;
    match crate::memory::lookup(context, p) {
        Some(a)
            if p.checked_add(size)
                .is_some_and(|end| end <= a.base() + a.size) =>
        {
            Ok(p)
        }
        Some(_) => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{size} bytes at {p:#x} overrun their allocation"
        ),
        None => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{p:#x} is not inside an allocation of this context"
        ),
    }
}

entry_points! {
    fn zeContextCreate(hDriver: ze_driver_handle_t, desc: *const ze_context_desc_t, phContext: *mut ze_context_handle_t) {
        create(hDriver, desc, None, phContext)
    }

    /// A context over the listed devices (all of the driver's when the list is empty).
    fn zeContextCreateEx(
        hDriver: ze_driver_handle_t,
        desc: *const ze_context_desc_t,
        numDevices: u32,
        phDevices: *mut ze_device_handle_t,
        phContext: *mut ze_context_handle_t,
    ) {
        // SAFETY: the caller's array of `numDevices` handles.
        let list = unsafe { ffi::slice(phDevices.cast_const(), numDevices)? };
        create(hDriver, desc, Some(list), phContext)
    }

    /// Refused with `ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE` while objects created in the
    /// context live: command queues, command lists, event pools, modules, images, samplers,
    /// allocations.
    ///
    /// The driver's default context (`zeDriverGetDefaultContext`) is the driver's: refused with
    /// `ZE_RESULT_ERROR_INVALID_ARGUMENT`.
    fn zeContextDestroy(hContext: ze_context_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        if context.instance.default_context.get() == Some(&context.handle) {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "the driver's default context (zeDriverGetDefaultContext) belongs to the driver: it cannot be destroyed"
            );
        }
        let children = context.children.load(Ordering::Acquire);
        let allocations = context.instance.memory.count_for_context(context.handle);
        if children != 0 || allocations != 0 {
            bail!(
                ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
                "{children} queues, lists, event pools, modules, images or samplers and {allocations} allocations of this context are still alive"
            );
        }
        let context: Arc<Context> = handles::take(hContext)?;
        context.instance.live.contexts.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn zeContextGetStatus(hContext: ze_context_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        for &i in &context.devices {
            DeviceRef { instance: context.instance, index: i }.check_alive()?;
        }
        Ok(())
    }

    /// Recorded for the device named only: never for the context's other devices.
    fn zeContextMakeMemoryResident(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, ptr: *mut c_void, size: usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        let d = context.device(hDevice)?;
        let p = resident_range(&context, ptr, size)?;
        crate::device::make_resident(&d, p, size);
        Ok(())
    }

    fn zeContextEvictMemory(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, ptr: *mut c_void, size: usize) {
        let context: Arc<Context> = handles::get(hContext)?;
        let d = context.device(hDevice)?;
        let p = resident_range(&context, ptr, size)?;
        crate::device::evict(&d, p);
        Ok(())
    }

    /// Every command runs on host memory: there is nothing to flush.
    fn zeContextSystemBarrier(hContext: ze_context_handle_t, hDevice: ze_device_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        context.device(hDevice)?;
        Ok(())
    }
}
