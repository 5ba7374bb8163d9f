//! Contexts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use level_zero_sys as sys;

use crate::device::Device;
use crate::driver::Driver;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;

pub(crate) struct ContextInner {
    pub(crate) driver: Driver,
    pub(crate) handle: Handle<sys::_ze_context_handle_t>,
    pub(crate) devices: Vec<Device>,
    /// `devices`, then the sub-devices of each (transitively): every device the context
    /// may be used with (`zeContextCreateEx`: the context "has visibility to the devices
    /// and any sub-devices of the devices"). Indices into it identify a device.
    pub(crate) members: Vec<Device>,
    /// Whether commands of different lists and queues that use one allocation are ordered
    /// automatically (see [`crate::hazard`]).
    hazard_tracking: AtomicBool,
    /// Whether this object destroys the handle (not the driver's default context, which
    /// the driver owns).
    owned: bool,
}

impl Drop for ContextInner {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        // SAFETY: every object created in this context holds a reference to it, so this
        // runs after all of them were destroyed; the handle is destroyed exactly once.
        if let Err(e) = unsafe { ze!(self.driver.api(), zeContextDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a context failed: {e}");
        }
    }
}

/// A context: the scope of memory allocations, queues, lists, events and modules.
///
/// Cheap to clone (shared). Every object created in a context keeps it alive, so it is
/// destroyed only after the last of them — dropping a `Context` before its buffers is fine.
/// `Send + Sync`: Level Zero contexts may be used from any thread.
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<ContextInner>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("handle", &self.inner.handle.0)
            .field("devices", &self.inner.devices.len())
            .finish()
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
impl Eq for Context {}

/// The default context of each driver handle, made once (see [`Context::default_of`]).
static DEFAULT_CONTEXTS: std::sync::Mutex<Vec<(usize, Context)>> =
    std::sync::Mutex::new(Vec::new());

impl Context {
    /// The driver's default context: one context of all its devices, shared by every caller
    /// in the process (`zeDriverGetDefaultContext`, spec 1.14, which the driver owns and
    /// never destroys). On a driver without it, a context of all the driver's devices made
    /// on first use and kept for the rest of the process. The same [`Context`] (equal, with
    /// the same hazard tracking) every time.
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// let driver = &rt.drivers()[0];
    /// let a = driver.default_context()?;
    /// assert_eq!(a, driver.default_context()?);
    /// # Ok(()) }
    /// ```
    pub fn default_of(driver: &Driver) -> Result<Context> {
        let key = driver.as_raw() as usize;
        let mut cache = DEFAULT_CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache
            .iter()
            .find(|(k, c)| *k == key && c.driver() == driver)
        {
            return Ok(c.clone());
        }
        let ctx = match driver.api().zeDriverGetDefaultContext {
            Some(f) => {
                // SAFETY: a valid driver handle; the function returns a handle or null.
                let h = unsafe { f(driver.as_raw()) };
                if h.is_null() {
                    return Err(Error::invalid(
                        "zeDriverGetDefaultContext",
                        "the driver returned no default context",
                    ));
                }
                let devices = driver.devices()?;
                Context {
                    inner: Arc::new(ContextInner {
                        driver: driver.clone(),
                        handle: Handle(h),
                        members: with_sub_devices(&devices)?,
                        devices,
                        hazard_tracking: AtomicBool::new(true),
                        owned: false,
                    }),
                }
            }
            None => Context::new(driver)?,
        };
        cache.push((key, ctx.clone()));
        Ok(ctx)
    }

    /// A context for every device of `driver`.
    pub fn new(driver: &Driver) -> Result<Context> {
        let desc = sys::ze_context_desc_t::default();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid driver handle, descriptor and output.
        unsafe {
            ze!(
                driver.api(),
                zeContextCreate(driver.as_raw(), &desc, &mut h)
            )?
        };
        let devices = driver.devices()?;
        Ok(Context {
            inner: Arc::new(ContextInner {
                driver: driver.clone(),
                handle: Handle(h),
                members: with_sub_devices(&devices)?,
                devices,
                hazard_tracking: AtomicBool::new(true),
                owned: true,
            }),
        })
    }

    /// A context for only these devices of one driver (`zeContextCreateEx`).
    ///
    /// Memory of a device outside the context is not visible to the context's devices, and
    /// nothing is made resident on devices outside it: for a multi-GPU process, one context
    /// per device (plus explicit peer copies) is the configuration that does not mirror
    /// device memory in host memory.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> level_zero::Result<()> {
    /// # let rt = level_zero::Runtime::init()?;
    /// # let driver = &rt.drivers()[0];
    /// # let device = &driver.devices()?[0];
    /// # let ctx = level_zero::Context::new(driver)?;
    /// use level_zero::Context;
    /// // One context per device: nothing is ever made resident on another device.
    /// let per_device: Vec<Context> = driver
    ///     .devices()?
    ///     .iter()
    ///     .map(|d| Context::with_devices(std::slice::from_ref(d)))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(per_device[0].devices().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn with_devices(devices: &[Device]) -> Result<Context> {
        let Some(first) = devices.first() else {
            return Err(Error::invalid("zeContextCreateEx", "no devices given"));
        };
        let driver = first.driver().clone();
        if devices.iter().any(|d| d.driver() != &driver) {
            return Err(Error::invalid(
                "zeContextCreateEx",
                "the devices belong to different drivers",
            ));
        }
        let mut handles: Vec<_> = devices.iter().map(Device::as_raw).collect();
        let desc = sys::ze_context_desc_t::default();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid driver and device handles of that driver, descriptor and output.
        unsafe {
            ze!(
                driver.api(),
                zeContextCreateEx(
                    driver.as_raw(),
                    &desc,
                    handles.len() as u32,
                    handles.as_mut_ptr(),
                    &mut h
                )
            )?
        };
        Ok(Context {
            inner: Arc::new(ContextInner {
                driver,
                handle: Handle(h),
                members: with_sub_devices(devices)?,
                devices: devices.to_vec(),
                hazard_tracking: AtomicBool::new(true),
                owned: true,
            }),
        })
    }

    /// Whether commands of different lists and queues that use the same allocation are
    /// ordered automatically, in the order the host issued them (on unless
    /// [`disable_hazard_tracking`](Self::disable_hazard_tracking) was called). See
    /// [`crate::hazard`].
    pub fn hazard_tracking(&self) -> bool {
        self.inner.hazard_tracking.load(Ordering::Relaxed)
    }

    /// Stops ordering commands of different lists and queues by the allocations they use,
    /// for commands issued from now on: each command then waits only for what its own list
    /// or queue, and the events given to it, order it after. This saves an event per
    /// command that uses memory, and the waits.
    ///
    /// # Safety
    ///
    /// Commands issued while hazard tracking is off leave no trace for it. The caller must
    /// order every command issued while it is off against every other command of another
    /// list or queue of this context that uses the same allocation, at least one of the two
    /// writing it — commands issued before this call, while it is off, and *after* it is
    /// enabled again alike — with events, barriers that wait for events, or host
    /// synchronisation, until each command issued while it was off has been seen complete
    /// (a synchronisation of its list or queue returned). Otherwise the commands race: the
    /// device (or the CPU driver's worker threads) reads and writes the same bytes at once.
    /// Host access through guards stays checked as always.
    pub unsafe fn disable_hazard_tracking(&self) {
        self.inner.hazard_tracking.store(false, Ordering::Relaxed);
    }

    /// Orders commands of different lists and queues by the allocations they use again,
    /// from the next command on. Commands issued while it was off are not tracked: the
    /// contract of [`disable_hazard_tracking`](Self::disable_hazard_tracking) covers them
    /// until they are seen complete.
    pub fn enable_hazard_tracking(&self) {
        self.inner.hazard_tracking.store(true, Ordering::Relaxed);
    }

    /// The driver.
    pub fn driver(&self) -> &Driver {
        &self.inner.driver
    }

    /// The devices this context was created with (its sub-devices belong to it too: see
    /// [`Context::contains`]).
    pub fn devices(&self) -> &[Device] {
        &self.inner.devices
    }

    /// Whether `device` belongs to this context: one of [`Context::devices`], or a
    /// sub-device of one.
    pub fn contains(&self, device: &Device) -> bool {
        self.inner.members.contains(device)
    }

    pub(crate) fn api(&self) -> &sys::Api {
        self.inner.driver.api()
    }

    /// The raw handle. It stays owned by this object.
    pub fn as_raw(&self) -> sys::ze_context_handle_t {
        self.inner.handle.0
    }

    /// `Ok(())` while the context is usable; the device-lost error once a device of it was
    /// lost.
    pub fn status(&self) -> Result<()> {
        // SAFETY: valid handle.
        unsafe { ze!(self.api(), zeContextGetStatus(self.as_raw())) }
    }

    /// Makes `memory` resident on `device` (`zeContextMakeMemoryResident`): pages it in so the
    /// device does not fault on first touch.
    ///
    /// Residency is explicit and per device, and this crate never makes memory resident on
    /// its own. Making every allocation resident on the *peer* devices of a multi-device
    /// context is what made dual-GPU Intel Arc systems mirror device memory in host RAM (each
    /// such allocation cost a same-size host buffer that RSS did not show: 55 GiB of host
    /// memory instead of 1.55 GiB without the peer residency calls, with cross-device copies
    /// still working). Call this only for the device that will use the memory.
    pub fn make_resident<T: bytemuck::Pod>(
        &self,
        device: &Device,
        memory: &impl crate::Memory<T>,
    ) -> Result<()> {
        const CALL: &str = "zeContextMakeMemoryResident";
        let r = self.residency_range(CALL, device, memory)?;
        let Some((ptr, size)) = r else { return Ok(()) };
        // SAFETY: valid context and device of it; a range of a live allocation of it.
        unsafe {
            ze!(
                self.api(),
                zeContextMakeMemoryResident(self.as_raw(), device.as_raw(), ptr, size)
            )
        }
    }

    /// Evicts `memory` from `device` (`zeContextEvictMemory`), undoing
    /// [`make_resident`](Self::make_resident). [`Error::Busy`] while submitted device work
    /// may still use it (the specification forbids evicting memory the device references).
    pub fn evict<T: bytemuck::Pod>(
        &self,
        device: &Device,
        memory: &impl crate::Memory<T>,
    ) -> Result<()> {
        const CALL: &str = "zeContextEvictMemory";
        // The specification: "the device is not currently referencing the memory".
        if memory.region().alloc.device_busy() {
            return Err(Error::Busy {
                what: "eviction of memory",
                why: "submitted device work may still use it; synchronize the list or queue first",
            });
        }
        let r = self.residency_range(CALL, device, memory)?;
        let Some((ptr, size)) = r else { return Ok(()) };
        // SAFETY: valid context and device of it; a range of a live allocation of it.
        unsafe {
            ze!(
                self.api(),
                zeContextEvictMemory(self.as_raw(), device.as_raw(), ptr, size)
            )
        }
    }

    fn residency_range<T: bytemuck::Pod>(
        &self,
        call: &'static str,
        device: &Device,
        memory: &impl crate::Memory<T>,
    ) -> Result<Option<(*mut std::ffi::c_void, usize)>> {
        self.check_device(call, device)?;
        if memory.context() != self {
            return Err(Error::invalid(
                call,
                "the memory belongs to another context",
            ));
        }
        let bytes = memory.len() * size_of::<T>();
        Ok((bytes > 0).then(|| (memory.device_ptr(), bytes)))
    }

    pub(crate) fn check_device(&self, call: &'static str, device: &Device) -> Result<()> {
        self.device_index(call, device).map(drop)
    }

    /// The position of `device` among the context's devices and their sub-devices.
    pub(crate) fn device_index(&self, call: &'static str, device: &Device) -> Result<usize> {
        self.inner
            .members
            .iter()
            .position(|d| d == device)
            .ok_or_else(|| Error::invalid(call, "the device does not belong to this context"))
    }
}

/// `devices`, then the sub-devices of each, transitively, each once.
fn with_sub_devices(devices: &[Device]) -> Result<Vec<Device>> {
    let mut all: Vec<Device> = devices.to_vec();
    let mut next = 0;
    while next < all.len() {
        let subs = match all[next].sub_devices() {
            Ok(subs) => subs,
            // A driver without sub-device queries has none to add.
            Err(Error::MissingFunction { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        for d in subs {
            if !all.contains(&d) {
                all.push(d);
            }
        }
        next += 1;
    }
    Ok(all)
}
