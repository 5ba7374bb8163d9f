//! Samplers (`zeSamplerCreate`): how a kernel's image reads address and filter texels.
//!
//! A sampler is immutable once created. It is passed to kernels with
//! [`Kernel::set_arg_sampler`](crate::Kernel::set_arg_sampler); the kernel, and every launch
//! issued while the argument holds it, keep it alive, so dropping a [`Sampler`] never destroys
//! one a command may still use.

use std::sync::Arc;

use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;
use crate::module::Kernel;

/// What a coordinate outside the image reads (`ze_sampler_address_mode_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressMode {
    /// No handling: the kernel must keep its coordinates inside the image.
    None,
    /// The image repeats (normalised coordinates only).
    Repeat,
    /// Coordinates are clamped to the edge texels.
    Clamp,
    /// Coordinates outside the image read the border colour.
    ClampToBorder,
    /// The image repeats mirrored at every edge (normalised coordinates only).
    Mirror,
}

impl AddressMode {
    fn raw(self) -> sys::ze_sampler_address_mode_t {
        use sys::ze_sampler_address_mode_t as A;
        match self {
            AddressMode::None => A::ZE_SAMPLER_ADDRESS_MODE_NONE,
            AddressMode::Repeat => A::ZE_SAMPLER_ADDRESS_MODE_REPEAT,
            AddressMode::Clamp => A::ZE_SAMPLER_ADDRESS_MODE_CLAMP,
            AddressMode::ClampToBorder => A::ZE_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER,
            AddressMode::Mirror => A::ZE_SAMPLER_ADDRESS_MODE_MIRROR,
        }
    }
}

/// How texels are combined into a read's value (`ze_sampler_filter_mode_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterMode {
    /// The nearest texel.
    Nearest,
    /// A linear interpolation of the nearest texels (formats read as floating-point values
    /// only: see [`ImageFormatSupport`](crate::image::ImageFormatSupport)).
    Linear,
}

impl FilterMode {
    fn raw(self) -> sys::ze_sampler_filter_mode_t {
        use sys::ze_sampler_filter_mode_t as F;
        match self {
            FilterMode::Nearest => F::ZE_SAMPLER_FILTER_MODE_NEAREST,
            FilterMode::Linear => F::ZE_SAMPLER_FILTER_MODE_LINEAR,
        }
    }
}

/// A sampler's description (`ze_sampler_desc_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SamplerDesc {
    /// What coordinates outside the image read.
    pub address: AddressMode,
    /// How texels are combined.
    pub filter: FilterMode,
    /// Whether coordinates are normalised (`[0, 1]` across the image) rather than in texels.
    pub normalized: bool,
}

impl Default for SamplerDesc {
    /// Clamped, nearest texel, unnormalised coordinates (texel indices).
    fn default() -> Self {
        SamplerDesc {
            address: AddressMode::Clamp,
            filter: FilterMode::Nearest,
            normalized: false,
        }
    }
}

struct SamplerInner {
    ctx: Context,
    device: Device,
    handle: Handle<sys::_ze_sampler_handle_t>,
    desc: SamplerDesc,
}

impl Drop for SamplerInner {
    fn drop(&mut self) {
        // SAFETY: the last reference: every kernel argument and every launch that used the
        // sampler held one, so no command can still use it; destroyed once.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeSamplerDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying a sampler failed: {e}");
        }
    }
}

/// A sampler (`zeSamplerCreate`) for one device of a context.
///
/// Cheap to clone (shared); destroyed when the last clone, kernel argument and launch that
/// uses it are gone. `Send + Sync`: a sampler is immutable, and Level Zero lets any thread
/// use it (only its destruction, which the last owner does once, must not race).
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{AddressMode, FilterMode, Sampler, SamplerDesc};
/// let desc = SamplerDesc { address: AddressMode::Repeat, filter: FilterMode::Linear, normalized: true };
/// let sampler = Sampler::new(&ctx, device, &desc)?;
/// assert_eq!(sampler.desc(), &desc);
/// // Repeating needs normalised coordinates: refused before any call.
/// let bad = SamplerDesc { normalized: false, ..desc };
/// assert!(Sampler::new(&ctx, device, &bad).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Sampler {
    inner: Arc<SamplerInner>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("handle", &self.inner.handle.0)
            .field("desc", &self.inner.desc)
            .finish()
    }
}

impl Sampler {
    /// Creates a sampler for `device` (a device of `ctx`, or a sub-device of one).
    ///
    /// Checked before any call: the device belongs to the context and supports samplers
    /// (`maxSamplers` of [`Device::image_properties`] is not 0), and the repeating address
    /// modes ([`AddressMode::Repeat`], [`AddressMode::Mirror`]) come with normalised
    /// coordinates (OpenCL leaves them undefined otherwise, and Level Zero samplers are
    /// OpenCL's).
    pub fn new(ctx: &Context, device: &Device, desc: &SamplerDesc) -> Result<Sampler> {
        const CALL: &str = "zeSamplerCreate";
        ctx.check_device(CALL, device)?;
        if matches!(desc.address, AddressMode::Repeat | AddressMode::Mirror) && !desc.normalized {
            return Err(Error::invalid(
                CALL,
                format!(
                    "address mode {:?} needs normalised coordinates (set `normalized`)",
                    desc.address
                ),
            ));
        }
        if device.image_properties()?.max_samplers == 0 {
            return Err(Error::Unsupported {
                what: "samplers",
                why: "the device reports maxSamplers = 0 (zeDeviceGetImageProperties)".into(),
            });
        }
        let raw = sys::ze_sampler_desc_t {
            addressMode: desc.address.raw(),
            filterMode: desc.filter.raw(),
            isNormalized: u8::from(desc.normalized),
            ..Default::default()
        };
        let mut h = std::ptr::null_mut();
        // SAFETY: valid context and device of it, a valid descriptor (no chain) and output.
        unsafe {
            ze!(
                ctx.api(),
                zeSamplerCreate(ctx.as_raw(), device.as_raw(), &raw, &mut h)
            )?
        };
        if h.is_null() {
            return Err(Error::invalid(
                CALL,
                "the driver returned success and a null handle",
            ));
        }
        Ok(Sampler {
            inner: Arc::new(SamplerInner {
                ctx: ctx.clone(),
                device: device.clone(),
                handle: Handle(h),
                desc: *desc,
            }),
        })
    }

    /// The description it was created with.
    pub fn desc(&self) -> &SamplerDesc {
        &self.inner.desc
    }

    /// The context it belongs to.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The device it was created for.
    pub fn device(&self) -> &Device {
        &self.inner.device
    }

    /// The raw handle. It stays owned by this object (and its clones).
    pub fn as_raw(&self) -> sys::ze_sampler_handle_t {
        self.inner.handle.0
    }
}

impl Kernel {
    /// Sets argument `index`, a `sampler_t`, to `sampler`: the driver receives a pointer to
    /// its handle (`zeKernelSetArgumentValue` with `sizeof(ze_sampler_handle_t)`), as the
    /// specification says for sampler arguments. The kernel keeps the sampler alive while the
    /// argument holds it, and every launch keeps the one of its issue.
    ///
    /// Checked before any call: the index is in range, and the sampler belongs to the
    /// kernel's context and to its device (or to the device whose sub-device the kernel's
    /// is). Whether argument `index` is a sampler is the driver's to check.
    pub fn set_arg_sampler(&mut self, index: u32, sampler: &Sampler) -> Result<()> {
        const CALL: &str = "zeKernelSetArgumentValue";
        self.check_index(index)?;
        if sampler.context() != self.context() {
            return Err(Error::invalid(
                CALL,
                "the sampler belongs to another context than the kernel",
            ));
        }
        let (theirs, ours) = (sampler.device(), self.device());
        if theirs != ours && !crate::module::related_devices(theirs, ours)? {
            return Err(Error::invalid(
                CALL,
                "the sampler was created for another device than the kernel's (or its root device)",
            ));
        }
        let handle = sampler.as_raw();
        self.set_arg_holding(index, &handle, sampler.inner.clone())
    }
}
