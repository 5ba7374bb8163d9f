//! Images: `zeImageCreate`/`Destroy`/`GetProperties`, the image-query extensions, image
//! residency, and the image copies of command lists (image to image, image to and from
//! memory, with the `ZE_extension_image_copy` pitched variants).
//!
//! # Storage (what the engine reads)
//!
//! An image's texels live in one block of zeroed host memory, charged to its device's memory
//! like a device allocation (but not an allocation of the table: no pointer reaches it, and a
//! kernel reaches it only through the image). The layout ([`Layout`]) is linear:
//!
//! - texels are tightly packed, row-major: texel `(x, y, z)` starts at byte
//!   `z * slice_pitch + y * row_pitch + x * texel_size`, with
//!   `row_pitch = width * texel_size` and `slice_pitch = row_pitch * height`;
//! - a texel holds its channels in the order of the format's layout (`ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8`:
//!   channel 0 at the lowest address), each channel little-endian, 1, 2 or 4 bytes; the
//!   format's swizzle is *not* applied to storage: a reader applies it ([`Format::swizzle`]);
//! - array layers are a coordinate: a 1D array's layer is `y` (its `height` is the layer
//!   count), a 2D array's layer is `z` (its `depth` is the layer count). Copy regions use the
//!   same coordinates, as the specification's regions do for arrays.
//!
//! Copies run on the command list's queue like memory copies, after their wait events and
//! before their signal event. An image destroyed before a copy of it ran makes that copy fail
//! (`ZE_RESULT_ERROR_INVALID_ARGUMENT`, counted by the sanitizer as a freed-memory access), as
//! a freed allocation does; a copy that is running keeps the storage alive until it ends.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use level_zero_sys::*;

use crate::context::{Child, Context};
use crate::driver::Instance;
use crate::exec::{Failure, Op, check_append};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef, Object};
use crate::list::CommandList;
use crate::memory::{Block, Span};

/// Widest 1D image, in texels.
pub(crate) const MAX_IMAGE_DIMS_1D: u32 = 16384;
/// Widest and tallest 2D image, in texels.
pub(crate) const MAX_IMAGE_DIMS_2D: u32 = 16384;
/// Largest 3D image extent, in texels.
pub(crate) const MAX_IMAGE_DIMS_3D: u32 = 2048;
/// Largest buffer image, in bytes.
pub(crate) const MAX_IMAGE_BUFFER_SIZE: u64 = 1 << 28;
/// Most layers of an image array.
pub(crate) const MAX_IMAGE_ARRAY_SLICES: u32 = 2048;

/// The image limits of every device (what `zeDeviceGetImageProperties` must report): the
/// limits `zeImageCreate` enforces.
pub(crate) fn device_image_properties() -> ze_device_image_properties_t {
    ze_device_image_properties_t {
        maxImageDims1D: MAX_IMAGE_DIMS_1D,
        maxImageDims2D: MAX_IMAGE_DIMS_2D,
        maxImageDims3D: MAX_IMAGE_DIMS_3D,
        maxImageBufferSize: MAX_IMAGE_BUFFER_SIZE,
        maxImageArraySlices: MAX_IMAGE_ARRAY_SLICES,
        maxSamplers: crate::sampler::MAX_SAMPLERS,
        // The kernel engine reads, writes and samples images (level-zero-cpu-spirv's
        // exec/images.rs); as many image arguments as an Intel GPU takes.
        maxReadImageArgs: 128,
        maxWriteImageArgs: 128,
        ..Default::default()
    }
}

/// The specification's names of the format layouts of version 1.12, by value.
const LAYOUT_NAMES: [&str; 46] = [
    "8",
    "16",
    "32",
    "8_8",
    "8_8_8_8",
    "16_16",
    "16_16_16_16",
    "32_32",
    "32_32_32_32",
    "10_10_10_2",
    "11_11_10",
    "5_6_5",
    "5_5_5_1",
    "4_4_4_4",
    "Y8",
    "NV12",
    "YUYV",
    "VYUY",
    "YVYU",
    "UYVY",
    "AYUV",
    "P010",
    "Y410",
    "P012",
    "Y16",
    "P016",
    "Y216",
    "P216",
    "P8",
    "YUY2",
    "A8P8",
    "IA44",
    "AI44",
    "Y416",
    "Y210",
    "I420",
    "YV12",
    "400P",
    "422H",
    "422V",
    "444P",
    "RGBP",
    "BRGP",
    "8_8_8",
    "16_16_16",
    "32_32_32",
];

/// How a channel's bits are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChannelType {
    /// Unsigned integer.
    Uint,
    /// Signed (two's complement) integer.
    Sint,
    /// Unsigned normalised: `v / (2^bits - 1)`.
    Unorm,
    /// Signed normalised: `max(v / (2^(bits-1) - 1), -1)`.
    Snorm,
    /// IEEE binary16 (2-byte channels) or binary32 (4-byte channels).
    Float,
}

impl ChannelType {
    fn name(self) -> &'static str {
        match self {
            ChannelType::Uint => "UINT",
            ChannelType::Sint => "SINT",
            ChannelType::Unorm => "UNORM",
            ChannelType::Snorm => "SNORM",
            ChannelType::Float => "FLOAT",
        }
    }
}

/// A texel format this driver stores byte-exactly: 1 to 4 channels of 1, 2 or 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Format {
    /// The layout as the application gave it.
    pub(crate) layout: ze_image_format_layout_t,
    /// Channels per texel, in memory order.
    pub(crate) channels: usize,
    /// Bytes per channel.
    pub(crate) channel_bytes: usize,
    pub(crate) channel_type: ChannelType,
    /// What a read returns in its x, y, z, w components: a channel (`R`, `G`, `B`, `A` are
    /// channels 0 to 3), `0`, `1`, or `X` (undefined). Storage ignores it.
    pub(crate) swizzle: [ze_image_format_swizzle_t; 4],
}

impl Format {
    /// Bytes per texel.
    pub(crate) fn texel_size(&self) -> usize {
        self.channels * self.channel_bytes
    }

    /// `ZE_IMAGE_FORMAT_LAYOUT_..` with `ZE_IMAGE_FORMAT_TYPE_..`, for messages.
    fn name(&self) -> String {
        format!(
            "ZE_IMAGE_FORMAT_LAYOUT_{} with ZE_IMAGE_FORMAT_TYPE_{}",
            LAYOUT_NAMES[self.layout.0 as usize],
            self.channel_type.name()
        )
    }

    /// Checks a format: `ZE_RESULT_ERROR_INVALID_ENUMERATION` for a value the specification
    /// does not define, `ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT` (naming it) for a format
    /// this driver does not store.
    fn parse(f: &ze_image_format_t) -> ZeResult<Format> {
        let Some(layout_name) = LAYOUT_NAMES.get(f.layout.0 as usize) else {
            bail!(
                ZE_RESULT_ERROR_INVALID_ENUMERATION,
                "image format layout {}",
                f.layout.0
            );
        };
        use ze_image_format_type_t as T;
        let channel_type = match f.type_ {
            T::ZE_IMAGE_FORMAT_TYPE_UINT => ChannelType::Uint,
            T::ZE_IMAGE_FORMAT_TYPE_SINT => ChannelType::Sint,
            T::ZE_IMAGE_FORMAT_TYPE_UNORM => ChannelType::Unorm,
            T::ZE_IMAGE_FORMAT_TYPE_SNORM => ChannelType::Snorm,
            T::ZE_IMAGE_FORMAT_TYPE_FLOAT => ChannelType::Float,
            other => bail!(
                ZE_RESULT_ERROR_INVALID_ENUMERATION,
                "image format type {}",
                other.0
            ),
        };
        let swizzle = [f.x, f.y, f.z, f.w];
        for (c, s) in ["x", "y", "z", "w"].iter().zip(swizzle) {
            if s.0 > ze_image_format_swizzle_t::ZE_IMAGE_FORMAT_SWIZZLE_X.0 {
                bail!(
                    ZE_RESULT_ERROR_INVALID_ENUMERATION,
                    "image format swizzle {c} = {}",
                    s.0
                );
            }
        }
        let (channels, channel_bytes) = match f.layout.0 {
            0 => (1, 1),
            1 => (1, 2),
            2 => (1, 4),
            3 => (2, 1),
            4 => (4, 1),
            5 => (2, 2),
            6 => (4, 2),
            7 => (2, 4),
            8 => (4, 4),
            43 => (3, 1),
            44 => (3, 2),
            45 => (3, 4),
            _ => bail!(
                ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT,
                "ZE_IMAGE_FORMAT_LAYOUT_{layout_name}: level-zero-cpu stores only layouts of 1 to 4 channels of 8, 16 or 32 bits (packed and planar/YUV layouts are not supported)"
            ),
        };
        let format = Format {
            layout: f.layout,
            channels,
            channel_bytes,
            channel_type,
            swizzle,
        };
        let valid = match channel_bytes {
            1 => channel_type != ChannelType::Float,
            2 => true,
            _ => matches!(
                channel_type,
                ChannelType::Uint | ChannelType::Sint | ChannelType::Float
            ),
        };
        if !valid {
            bail!(
                ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT,
                "{}: there is no {}-bit {} channel type (8-bit: UINT, SINT, UNORM, SNORM; 16-bit: all five; 32-bit: UINT, SINT, FLOAT)",
                format.name(),
                channel_bytes * 8,
                channel_type.name()
            );
        }
        Ok(format)
    }
}

/// The type of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageType {
    D1,
    D1Array,
    D2,
    D2Array,
    D3,
    /// A 1D image whose width the descriptor gives in bytes.
    Buffer,
}

impl ImageType {
    fn parse(t: ze_image_type_t) -> ZeResult<ImageType> {
        use ze_image_type_t as T;
        Ok(match t {
            T::ZE_IMAGE_TYPE_1D => ImageType::D1,
            T::ZE_IMAGE_TYPE_1DARRAY => ImageType::D1Array,
            T::ZE_IMAGE_TYPE_2D => ImageType::D2,
            T::ZE_IMAGE_TYPE_2DARRAY => ImageType::D2Array,
            T::ZE_IMAGE_TYPE_3D => ImageType::D3,
            T::ZE_IMAGE_TYPE_BUFFER => ImageType::Buffer,
            other => bail!(
                ZE_RESULT_ERROR_INVALID_ENUMERATION,
                "image type {}",
                other.0
            ),
        })
    }

    /// How many coordinates address a texel (array layers included).
    pub(crate) fn dimensions(self) -> usize {
        match self {
            ImageType::D1 | ImageType::Buffer => 1,
            ImageType::D1Array | ImageType::D2 => 2,
            ImageType::D2Array | ImageType::D3 => 3,
        }
    }
}

/// Where an image's texels are: see the module documentation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) ty: ImageType,
    pub(crate) format: Format,
    /// Texels along x, y and z (array layers included; 1 along unused coordinates).
    pub(crate) extent: [usize; 3],
    /// Bytes per texel.
    pub(crate) texel_size: usize,
    /// Bytes from one row to the next: `extent[0] * texel_size`.
    pub(crate) row_pitch: usize,
    /// Bytes from one slice (or 2D array layer) to the next: `row_pitch * extent[1]`.
    pub(crate) slice_pitch: usize,
    /// Bytes of storage: `slice_pitch * extent[2]`.
    pub(crate) size: usize,
}

/// Checks a descriptor against the specification and the device's limits, and gives the
/// layout of the image it describes.
///
/// # Safety
///
/// The descriptor's `pNext` chain must be made of valid Level Zero structures.
unsafe fn check_desc(desc: &ze_image_desc_t, instance: &Instance) -> ZeResult<Layout> {
    if desc.flags > 0x3 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "image flags {:#x}",
            desc.flags
        );
    }
    let ty = ImageType::parse(desc.type_)?;
    let format = Format::parse(&desc.format)?;
    // SAFETY: forwarded to the caller. No extension of images is implemented: an external
    // memory import, a bindless or pitched image, an image view, compression hints.
    unsafe { crate::chain::input(desc, &[])? };
    if desc.miplevels > 1 {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
            "mipmapped images (miplevels = {}) are not supported by level-zero-cpu",
            desc.miplevels
        );
    }
    let limits = device_image_properties();
    let dim = |what: &str, value: u64, max: u64| -> ZeResult<usize> {
        if value == 0 {
            bail!(ZE_RESULT_ERROR_INVALID_SIZE, "image {what} is 0");
        }
        if value > max {
            bail!(
                ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
                "image {what} {value} exceeds the device's limit of {max} (zeDeviceGetImageProperties)"
            );
        }
        Ok(value as usize)
    };
    let d1 = u64::from(limits.maxImageDims1D);
    let d2 = u64::from(limits.maxImageDims2D);
    let d3 = u64::from(limits.maxImageDims3D);
    let layers = u64::from(limits.maxImageArraySlices);
    let texel = format.texel_size();
    // Coordinates the type does not use are ignored, as the specification says.
    let extent = match ty {
        ImageType::D1 => [dim("width", desc.width, d1)?, 1, 1],
        ImageType::D1Array => [
            dim("width", desc.width, d1)?,
            dim("arraylevels", desc.arraylevels.into(), layers)?,
            1,
        ],
        ImageType::D2 => [
            dim("width", desc.width, d2)?,
            dim("height", desc.height.into(), d2)?,
            1,
        ],
        ImageType::D2Array => [
            dim("width", desc.width, d2)?,
            dim("height", desc.height.into(), d2)?,
            dim("arraylevels", desc.arraylevels.into(), layers)?,
        ],
        ImageType::D3 => [
            dim("width", desc.width, d3)?,
            dim("height", desc.height.into(), d3)?,
            dim("depth", desc.depth.into(), d3)?,
        ],
        ImageType::Buffer => {
            let bytes = dim("buffer size (width)", desc.width, limits.maxImageBufferSize)?;
            if bytes % texel != 0 {
                bail!(
                    ZE_RESULT_ERROR_INVALID_SIZE,
                    "buffer image of {bytes} bytes: not a whole number of {texel}-byte texels of {}",
                    format.name()
                );
            }
            [bytes / texel, 1, 1]
        }
    };
    let row_pitch = extent[0] * texel;
    let slice_pitch = row_pitch * extent[1];
    let size = slice_pitch
        .checked_mul(extent[2])
        .filter(|&s| s as u64 <= instance.config.max_alloc_size());
    let Some(size) = size else {
        bail!(
            ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
            "an image of {} x {} x {} texels of {} bytes exceeds maxMemAllocSize ({})",
            extent[0],
            extent[1],
            extent[2],
            texel,
            instance.config.max_alloc_size()
        );
    };
    Ok(Layout {
        ty,
        format,
        extent,
        texel_size: texel,
        row_pitch,
        slice_pitch,
        size,
    })
}

/// An image's memory. `live` is cleared when the image is destroyed: commands recorded
/// before then fail instead of using it.
pub(crate) struct Storage {
    block: Block,
    live: AtomicBool,
}

impl Storage {
    /// The address of texel (0, 0, 0).
    pub(crate) fn addr(&self) -> usize {
        self.block.addr()
    }

    /// Bytes of storage.
    pub(crate) fn len(&self) -> usize {
        self.block.len()
    }

    /// Whether the image still exists (`zeImageDestroy` clears it).
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }
}

/// An image as a kernel argument (`zeKernelSetArgumentValue` with the image's handle): the
/// storage, held weakly like the memory of a recorded copy (an image destroyed before the
/// launch runs makes it fail), and how the engine reads it.
#[derive(Clone)]
pub(crate) struct KernelImage {
    pub(crate) storage: Weak<Storage>,
    /// The engine's description; `base` is filled in when the launch runs.
    pub(crate) arg: level_zero_cpu_spirv::ImageArg,
}

impl Image {
    /// This image as a kernel argument.
    pub(crate) fn kernel_arg(&self) -> KernelImage {
        use level_zero_cpu_spirv as e;
        let l = &self.layout;
        let f = l.format;
        let swizzle = f.swizzle.map(|s| {
            use ze_image_format_swizzle_t as S;
            match s {
                S::ZE_IMAGE_FORMAT_SWIZZLE_R => e::Swizzle::Channel(0),
                S::ZE_IMAGE_FORMAT_SWIZZLE_G => e::Swizzle::Channel(1),
                S::ZE_IMAGE_FORMAT_SWIZZLE_B => e::Swizzle::Channel(2),
                S::ZE_IMAGE_FORMAT_SWIZZLE_A => e::Swizzle::Channel(3),
                S::ZE_IMAGE_FORMAT_SWIZZLE_1 => e::Swizzle::One,
                // 0, and X (undefined: reads 0).
                _ => e::Swizzle::Zero,
            }
        });
        KernelImage {
            storage: Arc::downgrade(&self.storage),
            arg: e::ImageArg {
                base: 0,
                dim: match l.ty {
                    ImageType::D1 => e::ImageDim::D1,
                    ImageType::D1Array => e::ImageDim::D1Array,
                    ImageType::D2 => e::ImageDim::D2,
                    ImageType::D2Array => e::ImageDim::D2Array,
                    ImageType::D3 => e::ImageDim::D3,
                    ImageType::Buffer => e::ImageDim::Buffer,
                },
                extent: l.extent.map(|x| x as u32),
                row_pitch: l.row_pitch as u64,
                slice_pitch: l.slice_pitch as u64,
                format: e::ImageFormat {
                    channels: f.channels as u8,
                    channel_bytes: f.channel_bytes as u8,
                    channel_type: match f.channel_type {
                        ChannelType::Uint => e::ChannelType::Uint,
                        ChannelType::Sint => e::ChannelType::Sint,
                        ChannelType::Unorm => e::ChannelType::Unorm,
                        ChannelType::Snorm => e::ChannelType::Snorm,
                        ChannelType::Float => e::ChannelType::Float,
                    },
                    swizzle,
                },
            },
        }
    }
}

/// An image.
pub(crate) struct Image {
    pub(crate) instance: &'static Instance,
    /// The context's handle.
    pub(crate) context: u64,
    pub(crate) device: DeviceRef,
    /// `ze_image_flags_t` as created (`KERNEL_WRITE`: kernels may write it). Kept for
    /// queries; a kernel may write an image created without the flag (as on Intel's driver).
    #[allow(dead_code)]
    pub(crate) flags: ze_image_flags_t,
    pub(crate) layout: Layout,
    storage: Arc<Storage>,
    /// Its allocation identifier (`zeImageGetAllocPropertiesExt`).
    id: u64,
    /// Keeps the context from being destroyed while the image lives.
    child: Child,
}

impl Image {
    /// `ZE_RESULT_ERROR_INVALID_ARGUMENT` unless the image may be used by `list`.
    fn check_for(&self, list: &CommandList, what: &str) -> ZeResult {
        // The specification: an image is for its device "or its sub-devices".
        let serves = self.device.index == list.device.index
            || self
                .device
                .state()
                .place
                .subdevices
                .contains(&list.device.index);
        if !std::ptr::eq(self.instance, list.instance)
            || !serves
            || self.context != list.context.handle
        {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what}: the image belongs to another context or device than the command list"
            );
        }
        Ok(())
    }
}

/// Looks an image handle up (kernel arguments).
pub(crate) fn lookup(raw: ze_image_handle_t) -> ZeResult<Arc<Image>> {
    handles::get(raw)
}

/// One end of a copy: an image, or memory (tracked or the application's).
enum Target {
    Image(Weak<Storage>),
    Memory(Span),
}

/// One end of a copy with its geometry: `origin[0]` and the extent's width are in bytes.
struct End {
    target: Target,
    origin: [usize; 3],
    row_pitch: usize,
    slice_pitch: usize,
}

/// What a held end gives while the copy runs.
enum Held {
    Image(Arc<Storage>),
    Memory(#[allow(dead_code)] crate::memory::Hold),
}

impl End {
    fn acquire(&self, instance: &Instance, what: &str) -> Result<(Held, usize), Failure> {
        let refused = |message: String| {
            instance.sanitizer.count_freed_memory_access();
            Failure {
                code: ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                message: format!("{what}: {message}"),
            }
        };
        match &self.target {
            Target::Image(weak) => {
                match weak.upgrade().filter(|s| s.live.load(Ordering::Acquire)) {
                    Some(s) => {
                        let addr = s.addr();
                        Ok((Held::Image(s), addr))
                    }
                    None => Err(refused(
                        "the image was destroyed before the command ran".into(),
                    )),
                }
            }
            Target::Memory(span) => {
                let hold = span.acquire(&instance.memory).map_err(|r| match r {
                    crate::memory::Refusal::Freed(m) => refused(m),
                    crate::memory::Refusal::Access(m) => Failure {
                        code: ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
                        message: format!("{what}: {m}"),
                    },
                })?;
                Ok((Held::Memory(hold), span.addr))
            }
        }
    }

    fn row(&self, base: usize, y: usize, z: usize) -> usize {
        base + (self.origin[2] + z) * self.slice_pitch
            + (self.origin[1] + y) * self.row_pitch
            + self.origin[0]
    }
}

/// An image copy, checked when appended.
pub(crate) struct ImageCopy {
    dst: End,
    src: End,
    /// Bytes per row, rows, slices: none zero.
    extent: [usize; 3],
}

impl ImageCopy {
    /// Runs the copy (on the queue's worker).
    pub(crate) fn run(&self, instance: &Instance) -> Result<(), Failure> {
        let (dst_hold, dst) = self.dst.acquire(instance, "image copy destination")?;
        let (src_hold, src) = self.src.acquire(instance, "image copy source")?;
        let [w, h, d] = self.extent;
        let same =
            matches!((&dst_hold, &src_hold), (Held::Image(a), Held::Image(b)) if Arc::ptr_eq(a, b));
        if same {
            // Within one image, regions may overlap: read everything first.
            let mut staged = Vec::with_capacity(w * h * d);
            for z in 0..d {
                for y in 0..h {
                    let from = self.src.row(src, y, z);
                    // SAFETY: inside the image's storage (checked at append against its
                    // layout), held alive by `src_hold`.
                    staged.extend_from_slice(unsafe {
                        std::slice::from_raw_parts(from as *const u8, w)
                    });
                }
            }
            for z in 0..d {
                for y in 0..h {
                    let to = self.dst.row(dst, y, z);
                    let at = (z * h + y) * w;
                    // SAFETY: as above, for the destination rows.
                    unsafe {
                        std::ptr::copy_nonoverlapping(staged[at..].as_ptr(), to as *mut u8, w);
                    }
                }
            }
        } else {
            for z in 0..d {
                for y in 0..h {
                    let (to, from) = (self.dst.row(dst, y, z), self.src.row(src, y, z));
                    // SAFETY: image rows lie inside their storage (checked at append against
                    // the layout) and are held alive; memory rows lie inside the range checked
                    // against the allocation table at append and held now, or in application
                    // memory the application guarantees for the copy. memmove: the two ends
                    // are distinct objects, but the application's memory is not ours to
                    // reason about.
                    unsafe { std::ptr::copy(from as *const u8, to as *mut u8, w) };
                }
            }
        }
        drop((dst_hold, src_hold));
        Ok(())
    }
}

/// A region of an image, checked: origin and extent in texels (`None`: the whole image). A
/// zero extent along a coordinate the image type does not use counts as 1 (the
/// specification's own example copies a 2D region with depth 0); the region must lie inside
/// the image, else `ZE_RESULT_ERROR_INVALID_ARGUMENT`.
fn image_region(
    image: &Image,
    region: *const ze_image_region_t,
    what: &str,
) -> ZeResult<([usize; 3], [usize; 3])> {
    let l = &image.layout;
    if region.is_null() {
        return Ok(([0; 3], l.extent));
    }
    // SAFETY: a non-null region is the caller's.
    let r = unsafe { ffi::read(region)? };
    let origin = [r.originX as usize, r.originY as usize, r.originZ as usize];
    let mut extent = [r.width as usize, r.height as usize, r.depth as usize];
    for e in extent.iter_mut().skip(l.ty.dimensions()) {
        if *e == 0 {
            *e = 1;
        }
    }
    for axis in 0..3 {
        if origin[axis] + extent[axis] > l.extent[axis] {
            bail!(
                ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{what}: the region at ({}, {}, {}) of {} x {} x {} texels lies outside the {:?} image of {} x {} x {}",
                origin[0],
                origin[1],
                origin[2],
                extent[0],
                extent[1],
                extent[2],
                l.ty,
                l.extent[0],
                l.extent[1],
                l.extent[2]
            );
        }
    }
    Ok((origin, extent))
}

fn image_end(image: &Image, origin: [usize; 3]) -> End {
    let l = &image.layout;
    End {
        target: Target::Image(Arc::downgrade(&image.storage)),
        origin: [origin[0] * l.texel_size, origin[1], origin[2]],
        row_pitch: l.row_pitch,
        slice_pitch: l.slice_pitch,
    }
}

/// The memory end of a copy to or from memory: rows of `extent` texels at `ptr`, `row_pitch`
/// and `slice_pitch` apart (0: tightly packed), checked against the allocation table.
fn memory_end(
    list: &CommandList,
    ptr: usize,
    texel: usize,
    extent: [usize; 3],
    row_pitch: u32,
    slice_pitch: u32,
    what: &str,
) -> ZeResult<End> {
    let row_bytes = extent[0] * texel;
    let row_pitch = if row_pitch == 0 {
        row_bytes
    } else {
        row_pitch as usize
    };
    let slice_pitch = if slice_pitch == 0 {
        row_pitch * extent[1]
    } else {
        slice_pitch as usize
    };
    if extent[1] > 1 && row_pitch < row_bytes {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{what}: row pitch {row_pitch} is smaller than a row of the region ({row_bytes} bytes)"
        );
    }
    if extent[2] > 1 && slice_pitch < row_pitch * extent[1] {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{what}: slice pitch {slice_pitch} is smaller than a slice of the region ({} bytes)",
            row_pitch * extent[1]
        );
    }
    let len = (extent[2] - 1) * slice_pitch + (extent[1] - 1) * row_pitch + row_bytes;
    let span = check_append(list.instance, ptr, len, what)?;
    Ok(End {
        target: Target::Memory(span),
        origin: [0; 3],
        row_pitch,
        slice_pitch,
    })
}

/// Appends a copy, or a no-op (events still honoured) when the region is empty.
fn push(
    list: &CommandList,
    copy: Option<ImageCopy>,
    signal: ze_event_handle_t,
    num_waits: u32,
    waits: *mut ze_event_handle_t,
) -> ZeResult {
    let op = match copy {
        Some(c) => Op::Image(Box::new(c)),
        None => Op::Nop,
    };
    list.push(op, signal, num_waits, waits)
}

fn copy_to_memory(
    hCommandList: ze_command_list_handle_t,
    dstptr: *mut c_void,
    hSrcImage: ze_image_handle_t,
    pSrcRegion: *const ze_image_region_t,
    pitches: (u32, u32),
    events: (ze_event_handle_t, u32, *mut ze_event_handle_t),
) -> ZeResult {
    let list: Arc<CommandList> = handles::get(hCommandList)?;
    let image: Arc<Image> = handles::get(hSrcImage)?;
    image.check_for(&list, "image copy source")?;
    let (origin, extent) = image_region(&image, pSrcRegion, "image copy source")?;
    let copy = if extent.contains(&0) {
        if dstptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null dstptr");
        }
        None
    } else {
        let texel = image.layout.texel_size;
        let dst = memory_end(
            &list,
            dstptr as usize,
            texel,
            extent,
            pitches.0,
            pitches.1,
            "image copy destination",
        )?;
        Some(ImageCopy {
            dst,
            src: image_end(&image, origin),
            extent: [extent[0] * texel, extent[1], extent[2]],
        })
    };
    push(&list, copy, events.0, events.1, events.2)
}

fn copy_from_memory(
    hCommandList: ze_command_list_handle_t,
    hDstImage: ze_image_handle_t,
    srcptr: *const c_void,
    pDstRegion: *const ze_image_region_t,
    pitches: (u32, u32),
    events: (ze_event_handle_t, u32, *mut ze_event_handle_t),
) -> ZeResult {
    let list: Arc<CommandList> = handles::get(hCommandList)?;
    let image: Arc<Image> = handles::get(hDstImage)?;
    image.check_for(&list, "image copy destination")?;
    let (origin, extent) = image_region(&image, pDstRegion, "image copy destination")?;
    let copy = if extent.contains(&0) {
        if srcptr.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null srcptr");
        }
        None
    } else {
        let texel = image.layout.texel_size;
        let src = memory_end(
            &list,
            srcptr as usize,
            texel,
            extent,
            pitches.0,
            pitches.1,
            "image copy source",
        )?;
        Some(ImageCopy {
            dst: image_end(&image, origin),
            src,
            extent: [extent[0] * texel, extent[1], extent[2]],
        })
    };
    push(&list, copy, events.0, events.1, events.2)
}

/// Image to image: same format (layout and type), regions of equal extent.
fn copy_images(
    hCommandList: ze_command_list_handle_t,
    hDstImage: ze_image_handle_t,
    hSrcImage: ze_image_handle_t,
    pDstRegion: *const ze_image_region_t,
    pSrcRegion: *const ze_image_region_t,
    events: (ze_event_handle_t, u32, *mut ze_event_handle_t),
) -> ZeResult {
    let list: Arc<CommandList> = handles::get(hCommandList)?;
    let dst: Arc<Image> = handles::get(hDstImage)?;
    let src: Arc<Image> = handles::get(hSrcImage)?;
    dst.check_for(&list, "image copy destination")?;
    src.check_for(&list, "image copy source")?;
    let (df, sf) = (&dst.layout.format, &src.layout.format);
    if (df.layout, df.channel_type) != (sf.layout, sf.channel_type) {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "image copy between formats {} and {}: the formats must be the same",
            sf.name(),
            df.name()
        );
    }
    let (d_origin, d_extent) = image_region(&dst, pDstRegion, "image copy destination")?;
    let (s_origin, s_extent) = image_region(&src, pSrcRegion, "image copy source")?;
    if d_extent != s_extent {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "image copy: the source region ({} x {} x {}) and the destination region ({} x {} x {}) differ in size",
            s_extent[0],
            s_extent[1],
            s_extent[2],
            d_extent[0],
            d_extent[1],
            d_extent[2]
        );
    }
    // The specification: the regions of a copy within one image "cannot be overlapping".
    let overlaps = (0..3).all(|k| {
        d_origin[k] < s_origin[k] + s_extent[k] && s_origin[k] < d_origin[k] + d_extent[k]
    });
    if Arc::ptr_eq(&dst, &src) && !s_extent.contains(&0) && overlaps {
        bail!(
            ZE_RESULT_ERROR_OVERLAPPING_REGIONS,
            "image copy within one image: the source region at {s_origin:?} and the destination region at {d_origin:?} (extent {s_extent:?}) overlap"
        );
    }
    let copy = (!s_extent.contains(&0)).then(|| ImageCopy {
        dst: image_end(&dst, d_origin),
        src: image_end(&src, s_origin),
        extent: [
            s_extent[0] * src.layout.texel_size,
            s_extent[1],
            s_extent[2],
        ],
    });
    push(&list, copy, events.0, events.1, events.2)
}

/// The filter modes a format supports when sampled: point for every format, linear for
/// formats read as floating-point values (not UINT and SINT).
fn filter_flags(format: &Format) -> ze_image_sampler_filter_flags_t {
    let point = ze_image_sampler_filter_flag_t::ZE_IMAGE_SAMPLER_FILTER_FLAG_POINT.0;
    let linear = ze_image_sampler_filter_flag_t::ZE_IMAGE_SAMPLER_FILTER_FLAG_LINEAR.0;
    match format.channel_type {
        ChannelType::Uint | ChannelType::Sint => point,
        _ => point | linear,
    }
}

entry_points! {
    /// What the device supports for a descriptor: the sampler filter modes of its format.
    /// A format this driver does not store is `ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT`.
    fn zeImageGetProperties(
        hDevice: ze_device_handle_t,
        desc: *const ze_image_desc_t,
        pImageProperties: *mut ze_image_properties_t,
    ) {
        let _: DeviceRef = handles::get(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        // SAFETY: the descriptor's chain (caller's contract); no extension is implemented.
        unsafe { crate::chain::input(&desc, &[])? };
        if pImageProperties.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pImageProperties");
        }
        if desc.flags > 0x3 {
            bail!(ZE_RESULT_ERROR_INVALID_ENUMERATION, "image flags {:#x}", desc.flags);
        }
        ImageType::parse(desc.type_)?;
        let format = Format::parse(&desc.format)?;
        let props = ze_image_properties_t { samplerFilterFlags: filter_flags(&format), ..Default::default() };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pImageProperties, props).map(drop) }
    }

    /// Counts against the device's memory like a device allocation.
    fn zeImageCreate(
        hContext: ze_context_handle_t,
        hDevice: ze_device_handle_t,
        desc: *const ze_image_desc_t,
        phImage: *mut ze_image_handle_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let device = context.device(hDevice)?;
        // SAFETY: a non-null descriptor is the caller's.
        let desc = unsafe { ffi::read(desc)? };
        if phImage.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null phImage");
        }
        let instance = context.instance;
        // SAFETY: the descriptor's chain (caller's contract).
        let layout = unsafe { check_desc(&desc, instance)? };
        device.check_alive()?;
        instance.memory.charge(device.index, layout.size as u64, instance.config.device_memory)?;
        let Some(block) = Block::new(layout.size, 64) else {
            instance.memory.uncharge(device.index, layout.size as u64);
            bail!(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY, "the host could not provide {} bytes", layout.size);
        };
        let handle = handles::reserve_for::<Arc<Image>>();
        let image = Arc::new(Image {
            instance,
            context: context.handle,
            device,
            flags: desc.flags,
            layout,
            storage: Arc::new(Storage { block, live: AtomicBool::new(true) }),
            id: instance.memory.new_id(),
            child: Child::of(&context),
        });
        handles::register(handle, Object::Image(image));
        instance.live.images.fetch_add(1, Ordering::Relaxed);
        // SAFETY: checked non-null; the caller's output.
        unsafe { ffi::write(phImage, handles::raw(handle)) }
    }

    /// Commands appended before and not yet run fail; one running finishes first.
    fn zeImageDestroy(hImage: ze_image_handle_t) {
        let image: Arc<Image> = handles::take(hImage)?;
        image.storage.live.store(false, Ordering::Release);
        let instance = image.instance;
        instance.memory.uncharge(image.device.index, image.layout.size as u64);
        instance.live.images.fetch_sub(1, Ordering::Relaxed);
        image.child.release();
        Ok(())
    }

    /// `ZE_extension_image_query_alloc_properties`: the image's allocation identifier.
    fn zeImageGetAllocPropertiesExt(
        hContext: ze_context_handle_t,
        hImage: ze_image_handle_t,
        pImageAllocProperties: *mut ze_image_allocation_ext_properties_t,
    ) {
        let context: Arc<Context> = handles::get(hContext)?;
        let image: Arc<Image> = handles::get(hImage)?;
        if image.context != context.handle {
            bail!(ZE_RESULT_ERROR_INVALID_ARGUMENT, "the image belongs to another context");
        }
        let props = ze_image_allocation_ext_properties_t { id: image.id, ..Default::default() };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pImageAllocProperties, props).map(drop) }
    }

    /// `ZE_experimental_image_memory_properties`: the storage's size and pitches (see the
    /// module documentation).
    fn zeImageGetMemoryPropertiesExp(
        hImage: ze_image_handle_t,
        pMemoryProperties: *mut ze_image_memory_properties_exp_t,
    ) {
        let image: Arc<Image> = handles::get(hImage)?;
        let l = &image.layout;
        let props = ze_image_memory_properties_exp_t {
            size: l.size as u64,
            rowPitch: l.row_pitch as u64,
            slicePitch: l.slice_pitch as u64,
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pMemoryProperties, props).map(drop) }
    }

    /// Every image is resident: checked and accepted.
    fn zeContextMakeImageResident(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, hImage: ze_image_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        context.device(hDevice)?;
        let _: Arc<Image> = handles::get(hImage)?;
        Ok(())
    }

    /// Images are never evicted: checked and accepted.
    fn zeContextEvictImage(hContext: ze_context_handle_t, hDevice: ze_device_handle_t, hImage: ze_image_handle_t) {
        let context: Arc<Context> = handles::get(hContext)?;
        context.device(hDevice)?;
        let _: Arc<Image> = handles::get(hImage)?;
        Ok(())
    }

    /// The whole source image into the whole destination image: same format, same extent.
    fn zeCommandListAppendImageCopy(
        hCommandList: ze_command_list_handle_t,
        hDstImage: ze_image_handle_t,
        hSrcImage: ze_image_handle_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_images(hCommandList, hDstImage, hSrcImage, std::ptr::null(), std::ptr::null(), (hSignalEvent, numWaitEvents, phWaitEvents))
    }

    /// A null region is the whole image.
    fn zeCommandListAppendImageCopyRegion(
        hCommandList: ze_command_list_handle_t,
        hDstImage: ze_image_handle_t,
        hSrcImage: ze_image_handle_t,
        pDstRegion: *const ze_image_region_t,
        pSrcRegion: *const ze_image_region_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_images(hCommandList, hDstImage, hSrcImage, pDstRegion, pSrcRegion, (hSignalEvent, numWaitEvents, phWaitEvents))
    }

    /// Into tightly packed memory.
    fn zeCommandListAppendImageCopyToMemory(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut c_void,
        hSrcImage: ze_image_handle_t,
        pSrcRegion: *const ze_image_region_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_to_memory(hCommandList, dstptr, hSrcImage, pSrcRegion, (0, 0), (hSignalEvent, numWaitEvents, phWaitEvents))
    }

    /// From tightly packed memory.
    fn zeCommandListAppendImageCopyFromMemory(
        hCommandList: ze_command_list_handle_t,
        hDstImage: ze_image_handle_t,
        srcptr: *const c_void,
        pDstRegion: *const ze_image_region_t,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_from_memory(hCommandList, hDstImage, srcptr, pDstRegion, (0, 0), (hSignalEvent, numWaitEvents, phWaitEvents))
    }

    /// `ZE_extension_image_copy`: into memory whose rows are `destRowPitch` bytes apart and
    /// whose slices (or array layers) `destSlicePitch` apart; 0 means tightly packed.
    fn zeCommandListAppendImageCopyToMemoryExt(
        hCommandList: ze_command_list_handle_t,
        dstptr: *mut c_void,
        hSrcImage: ze_image_handle_t,
        pSrcRegion: *const ze_image_region_t,
        destRowPitch: u32,
        destSlicePitch: u32,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_to_memory(hCommandList, dstptr, hSrcImage, pSrcRegion, (destRowPitch, destSlicePitch), (hSignalEvent, numWaitEvents, phWaitEvents))
    }

    /// `ZE_extension_image_copy`: from pitched memory, as for the copy to memory.
    fn zeCommandListAppendImageCopyFromMemoryExt(
        hCommandList: ze_command_list_handle_t,
        hDstImage: ze_image_handle_t,
        srcptr: *const c_void,
        pDstRegion: *const ze_image_region_t,
        srcRowPitch: u32,
        srcSlicePitch: u32,
        hSignalEvent: ze_event_handle_t,
        numWaitEvents: u32,
        phWaitEvents: *mut ze_event_handle_t,
    ) {
        copy_from_memory(hCommandList, hDstImage, srcptr, pDstRegion, (srcRowPitch, srcSlicePitch), (hSignalEvent, numWaitEvents, phWaitEvents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(layout: u32, ty: ze_image_format_type_t) -> ze_image_format_t {
        ze_image_format_t {
            layout: ze_image_format_layout_t(layout),
            type_: ty,
            ..Default::default()
        }
    }

    #[test]
    fn three_channel_formats_are_tightly_packed() {
        let f = Format::parse(&format(
            44,
            ze_image_format_type_t::ZE_IMAGE_FORMAT_TYPE_FLOAT,
        ))
        .unwrap();
        assert_eq!((f.channels, f.channel_bytes, f.texel_size()), (3, 2, 6));
    }

    #[test]
    fn unsupported_formats_are_named() {
        let e = Format::parse(&format(
            11,
            ze_image_format_type_t::ZE_IMAGE_FORMAT_TYPE_UNORM,
        ));
        assert_eq!(
            e,
            Err(ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT)
        );
        let text = crate::ffi::last_error();
        // SAFETY: the driver's NUL-terminated last error of this thread.
        let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
        assert!(text.contains("ZE_IMAGE_FORMAT_LAYOUT_5_6_5"), "{text}");
        let e = Format::parse(&format(
            4,
            ze_image_format_type_t::ZE_IMAGE_FORMAT_TYPE_FLOAT,
        ));
        assert_eq!(
            e,
            Err(ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT)
        );
        let text = crate::ffi::last_error();
        // SAFETY: as above.
        let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
        assert!(
            text.contains("ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8 with ZE_IMAGE_FORMAT_TYPE_FLOAT"),
            "{text}"
        );
    }

    #[test]
    fn layers_of_a_2d_array_are_slices() {
        let instance = crate::driver::default_instance();
        let desc = ze_image_desc_t {
            type_: ze_image_type_t::ZE_IMAGE_TYPE_2DARRAY,
            format: format(4, ze_image_format_type_t::ZE_IMAGE_FORMAT_TYPE_UINT),
            width: 5,
            height: 3,
            depth: 9, // ignored for arrays
            arraylevels: 4,
            ..Default::default()
        };
        // SAFETY: no chain.
        let l = unsafe { check_desc(&desc, instance) }.unwrap();
        assert_eq!(l.extent, [5, 3, 4]);
        assert_eq!((l.row_pitch, l.slice_pitch, l.size), (20, 60, 240));
    }
}
