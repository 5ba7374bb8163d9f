//! Samplers: `zeSamplerCreate`/`zeSamplerDestroy`. A sampler is its descriptor, checked and
//! kept for the engine's sampling instructions (the next issue), which read it through
//! [`Sampler`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::ffi::{self, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};

/// Samplers a kernel may use at once (what `zeDeviceGetImageProperties` reports).
pub(crate) const MAX_SAMPLERS: u32 = 16;

/// What a coordinate outside the image reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddressMode {
    /// No handling: the coordinates must be inside the image.
    None,
    /// Wraps around (normalised coordinates only).
    Repeat,
    /// Clamps to the edge texel.
    Clamp,
    /// Reads the border colour (0 in every channel; 1 in alpha for formats without alpha).
    ClampToBorder,
    /// Mirrors at every edge (normalised coordinates only).
    Mirror,
}

/// How texels are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterMode {
    Nearest,
    Linear,
}

/// A sampler.
#[allow(dead_code)] // `device`: kept with the sampler, not read.
pub(crate) struct Sampler {
    pub(crate) instance: &'static Instance,
    /// The context's handle.
    pub(crate) context: u64,
    pub(crate) device: DeviceRef,
    pub(crate) address_mode: AddressMode,
    pub(crate) filter_mode: FilterMode,
    /// Whether coordinates are normalised (`[0, 1]` across the image).
    pub(crate) normalized: bool,
    /// Keeps the context from being destroyed while the sampler lives.
    child: Child,
}

impl Sampler {
    /// This sampler as a kernel argument.
    pub(crate) fn kernel_arg(&self) -> level_zero_cpu_spirv::SamplerArg {
        use level_zero_cpu_spirv as e;
        e::SamplerArg {
            address: match self.address_mode {
                AddressMode::None => e::AddressMode::None,
                AddressMode::Repeat => e::AddressMode::Repeat,
                AddressMode::Clamp => e::AddressMode::ClampToEdge,
                AddressMode::ClampToBorder => e::AddressMode::Clamp,
                AddressMode::Mirror => e::AddressMode::Mirror,
            },
            filter: match self.filter_mode {
                FilterMode::Nearest => e::FilterMode::Nearest,
                FilterMode::Linear => e::FilterMode::Linear,
            },
            normalized: self.normalized,
        }
    }
}

entry_points! {
    fn zeSamplerCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_sampler_desc_t,
        phSampler: *mut ze_sampler_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract); it honours no extension.
        unsafe { crate::chain::input(&desc, &[])? };
        if phSampler.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phSampler");
        }
        use ze_sampler_address_mode_t as A;
        let address_mode = match desc.addressMode {
            A::ZE_SAMPLER_ADDRESS_MODE_NONE => AddressMode::None,
            A::ZE_SAMPLER_ADDRESS_MODE_REPEAT => AddressMode::Repeat,
            A::ZE_SAMPLER_ADDRESS_MODE_CLAMP => AddressMode::Clamp,
            A::ZE_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER => AddressMode::ClampToBorder,
            A::ZE_SAMPLER_ADDRESS_MODE_MIRROR => AddressMode::Mirror,
            other => bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "sampler address mode {}", other.0),
        };
        use ze_sampler_filter_mode_t as F;
        let filter_mode = match desc.filterMode {
            F::ZE_SAMPLER_FILTER_MODE_NEAREST => FilterMode::Nearest,
            F::ZE_SAMPLER_FILTER_MODE_LINEAR => FilterMode::Linear,
            other => bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "sampler filter mode {}", other.0),
        };
        device.check_alive()?;
        let instance = context.instance;
        let handle = handles::reserve_for::<Arc<Sampler>>();
        let sampler = Arc::new(Sampler {
            instance,
            context: context.handle,
            device,
            address_mode,
            filter_mode,
            normalized: desc.isNormalized != 0,
            child: Child::of(&context),
        });
        handles::register(handle, Object::Sampler(sampler));
        instance.live.samplers.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phSampler, handles::raw(handle)) }
    }

    fn zeSamplerDestroy(hSampler: ze_sampler_handle_t) {
        let sampler: Arc<Sampler> = handles::take(hSampler)?;
        sampler.instance.live.samplers.fetch_sub(1, Ordering::Relaxed);
        sampler.child.release();
        Ok(())
    }
}
