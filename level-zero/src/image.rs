//! Images (`zeImageCreate`): typed descriptions, copies on command lists, kernel arguments.
//!
//! An [`Image`] is created from an [`ImageDesc`] — 1-D, 2-D or 3-D, or an array of 1-D or 2-D
//! layers — of one [`ImageFormat`] (R, RG or RGBA channels of 8, 16 or 32 bits). Its texels
//! are reached only through copies (to and from other images, buffers and, on immediate
//! lists, host slices) and kernels; the host never sees its storage.
//!
//! # Coordinates
//!
//! Copies address texels with an [`ImageRegion`]: an origin and an extent along x, y and z,
//! in texels. Array layers are a coordinate, as in Level Zero's own regions: the layers of a
//! 1-D array are its y, those of a 2-D array its z. Along a coordinate the image's type does
//! not use (y and z of a 1-D image, z of a 2-D image or 1-D array) a region has origin 0 and
//! extent 1. Memory on the other side of a copy is tightly packed: row after row, slice
//! (or layer) after slice, `texel_size` bytes a texel, as the region's texel count times the
//! texel size bytes — exactly, or the copy is refused.
//!
//! # Soundness
//!
//! An image is owned like a buffer: every command that uses it (a copy, a kernel launch
//! whose argument holds it) keeps it alive until its list or queue has seen the command
//! complete, so dropping an [`Image`] never destroys one a command may still use; the last
//! reference destroys it (`zeImageDestroy`). Commands of different lists and queues that use
//! one image are ordered by hazard tracking exactly as for memory ([`crate::hazard`]): an
//! image is one tracked resource, written by copies into it and by every kernel launch that
//! has it as an argument (conservatively, as buffer arguments are), read by copies from it.
//!
//! Everything the crate can check is checked before any Level Zero call, with an error
//! naming the call ([`Error::InvalidArgument`]): the image's dimensions (not 0, within the
//! device's limits of [`Device::image_properties`], no overflow of the byte size), regions
//! inside their images, the byte size of the memory side, formats and extents of image to
//! image copies, overlapping regions of one image, and the context and device of every
//! object.
//!
//! # Examples
//!
//! ```
//! # fn main() -> level_zero::Result<()> {
//! # let rt = level_zero::Runtime::init()?;
//! # let driver = &rt.drivers()[0];
//! # let device = &driver.devices()?[0];
//! # let ctx = level_zero::Context::new(driver)?;
//! use level_zero::{DeviceBuffer, Image, ImageDesc, ImageFormat, ImageRegion, ImmediateCommandList};
//! // A 4 x 2 image of RGBA texels of 8 bits each.
//! let image = Image::new(&ctx, device, &ImageDesc::d2(ImageFormat::Rgba8Uint, 4, 2))?;
//! assert_eq!(image.size_bytes(), 4 * 2 * 4);
//! let texels: Vec<[u8; 4]> = (0..8).map(|i| [i, i + 1, i + 2, i + 3]).collect();
//! let mut list = ImmediateCommandList::compute(&ctx, device)?;
//! list.copy_slice_to_image(&image, image.region(), &texels)?;
//! // The second column, through device memory: 2 texels of 4 bytes.
//! let column = DeviceBuffer::<[u8; 4]>::new(&ctx, device, 2)?;
//! list.copy_from_image(&column, &image, ImageRegion::new([1, 0, 0], [1, 2, 1]))?;
//! let mut back = [[0u8; 4]; 2];
//! list.copy_to_slice(&mut back, &column)?;
//! assert_eq!(back, [texels[1], texels[5]]);
//! // The memory side must hold exactly the region's bytes: refused before any call.
//! assert!(list.copy_from_image(&column, &image, image.region()).is_err());
//! # Ok(()) }
//! ```

use std::ffi::c_void;
use std::fmt;
use std::sync::Arc;

use bytemuck::Pod;
use level_zero_sys as sys;

use crate::context::Context;
use crate::device::Device;
use crate::error::{Error, Result, ze};
use crate::handle::Handle;
use crate::list::{Cmd, CommandList, ImmediateCommandList, ListCore, Recorder};
use crate::memory::{Allocation, Memory, Use};
use crate::module::{Kernel, related_devices};
use crate::properties::{ImageProperties, ext_name};

/// How the bits of a channel are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// Unsigned normalised: read as `v / (2^bits - 1)`.
    Unorm,
    /// Signed normalised: read as `max(v / (2^(bits-1) - 1), -1)`.
    Snorm,
    /// Unsigned integer.
    Uint,
    /// Signed integer.
    Sint,
    /// IEEE floating point: binary16 (half) for 16-bit channels, binary32 for 32-bit ones.
    Float,
}

impl ChannelType {
    fn raw(self) -> sys::ze_image_format_type_t {
        use sys::ze_image_format_type_t as T;
        match self {
            ChannelType::Unorm => T::ZE_IMAGE_FORMAT_TYPE_UNORM,
            ChannelType::Snorm => T::ZE_IMAGE_FORMAT_TYPE_SNORM,
            ChannelType::Uint => T::ZE_IMAGE_FORMAT_TYPE_UINT,
            ChannelType::Sint => T::ZE_IMAGE_FORMAT_TYPE_SINT,
            ChannelType::Float => T::ZE_IMAGE_FORMAT_TYPE_FLOAT,
        }
    }
}

macro_rules! formats {
    ($($name:ident = $channels:ident, $bits:literal, $ty:ident;)*) => {
        /// A texel format: 1 (R), 2 (RG) or 4 (RGBA) channels of one [`ChannelType`] and size.
        /// Texels are stored channel by channel, R first, each channel little-endian on
        /// little-endian devices: an `Rgba16Float` texel is a `[half::f16; 4]`, an
        /// `Rg8Uint` one a `[u8; 2]`.
        ///
        /// These are Level Zero's single-planar formats of 8, 16 and 32-bit channels that
        /// exist (no 8-bit float, no 32-bit normalised), with the identity swizzle (missing
        /// channels read as 0, alpha as 1).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ImageFormat {
            $(
                #[doc = concat!(stringify!($channels), " channels of ", stringify!($bits), " bits, ", stringify!($ty), ".")]
                $name,
            )*
        }

        impl ImageFormat {
            /// Every format.
            pub const ALL: &'static [ImageFormat] = &[$(ImageFormat::$name,)*];

            /// (channels, bits per channel, channel type).
            const fn parts(self) -> (u32, u32, ChannelType) {
                match self {
                    $(ImageFormat::$name => (formats!(@count $channels), $bits, ChannelType::$ty),)*
                }
            }
        }
    };
    (@count R) => { 1 };
    (@count RG) => { 2 };
    (@count RGBA) => { 4 };
}

formats! {
    R8Unorm = R, 8, Unorm;
    R8Snorm = R, 8, Snorm;
    R8Uint = R, 8, Uint;
    R8Sint = R, 8, Sint;
    R16Unorm = R, 16, Unorm;
    R16Snorm = R, 16, Snorm;
    R16Uint = R, 16, Uint;
    R16Sint = R, 16, Sint;
    R16Float = R, 16, Float;
    R32Uint = R, 32, Uint;
    R32Sint = R, 32, Sint;
    R32Float = R, 32, Float;
    Rg8Unorm = RG, 8, Unorm;
    Rg8Snorm = RG, 8, Snorm;
    Rg8Uint = RG, 8, Uint;
    Rg8Sint = RG, 8, Sint;
    Rg16Unorm = RG, 16, Unorm;
    Rg16Snorm = RG, 16, Snorm;
    Rg16Uint = RG, 16, Uint;
    Rg16Sint = RG, 16, Sint;
    Rg16Float = RG, 16, Float;
    Rg32Uint = RG, 32, Uint;
    Rg32Sint = RG, 32, Sint;
    Rg32Float = RG, 32, Float;
    Rgba8Unorm = RGBA, 8, Unorm;
    Rgba8Snorm = RGBA, 8, Snorm;
    Rgba8Uint = RGBA, 8, Uint;
    Rgba8Sint = RGBA, 8, Sint;
    Rgba16Unorm = RGBA, 16, Unorm;
    Rgba16Snorm = RGBA, 16, Snorm;
    Rgba16Uint = RGBA, 16, Uint;
    Rgba16Sint = RGBA, 16, Sint;
    Rgba16Float = RGBA, 16, Float;
    Rgba32Uint = RGBA, 32, Uint;
    Rgba32Sint = RGBA, 32, Sint;
    Rgba32Float = RGBA, 32, Float;
}

impl ImageFormat {
    /// Channels per texel: 1, 2 or 4.
    pub const fn channels(self) -> u32 {
        self.parts().0
    }

    /// Bits per channel: 8, 16 or 32.
    pub const fn channel_bits(self) -> u32 {
        self.parts().1
    }

    /// How the channels are read.
    pub const fn channel_type(self) -> ChannelType {
        self.parts().2
    }

    /// Bytes per texel: channels × bits / 8.
    pub const fn texel_size(self) -> usize {
        (self.channels() * self.channel_bits() / 8) as usize
    }

    /// The Level Zero format (`ze_image_format_t`).
    pub fn raw(self) -> sys::ze_image_format_t {
        use sys::ze_image_format_layout_t as L;
        use sys::ze_image_format_swizzle_t as S;
        let layout = match (self.channels(), self.channel_bits()) {
            (1, 8) => L::ZE_IMAGE_FORMAT_LAYOUT_8,
            (1, 16) => L::ZE_IMAGE_FORMAT_LAYOUT_16,
            (1, _) => L::ZE_IMAGE_FORMAT_LAYOUT_32,
            (2, 8) => L::ZE_IMAGE_FORMAT_LAYOUT_8_8,
            (2, 16) => L::ZE_IMAGE_FORMAT_LAYOUT_16_16,
            (2, _) => L::ZE_IMAGE_FORMAT_LAYOUT_32_32,
            (_, 8) => L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
            (_, 16) => L::ZE_IMAGE_FORMAT_LAYOUT_16_16_16_16,
            (_, _) => L::ZE_IMAGE_FORMAT_LAYOUT_32_32_32_32,
        };
        let [x, y, z, w] = match self.channels() {
            1 => [
                S::ZE_IMAGE_FORMAT_SWIZZLE_R,
                S::ZE_IMAGE_FORMAT_SWIZZLE_0,
                S::ZE_IMAGE_FORMAT_SWIZZLE_0,
                S::ZE_IMAGE_FORMAT_SWIZZLE_1,
            ],
            2 => [
                S::ZE_IMAGE_FORMAT_SWIZZLE_R,
                S::ZE_IMAGE_FORMAT_SWIZZLE_G,
                S::ZE_IMAGE_FORMAT_SWIZZLE_0,
                S::ZE_IMAGE_FORMAT_SWIZZLE_1,
            ],
            _ => [
                S::ZE_IMAGE_FORMAT_SWIZZLE_R,
                S::ZE_IMAGE_FORMAT_SWIZZLE_G,
                S::ZE_IMAGE_FORMAT_SWIZZLE_B,
                S::ZE_IMAGE_FORMAT_SWIZZLE_A,
            ],
        };
        sys::ze_image_format_t {
            layout,
            type_: self.channel_type().raw(),
            x,
            y,
            z,
            w,
        }
    }
}

/// The shape of an image (`ze_image_type_t`; buffer images are not offered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// 1-D: a row of texels.
    D1,
    /// An array of 1-D layers (the layer is the y coordinate).
    D1Array,
    /// 2-D.
    D2,
    /// An array of 2-D layers (the layer is the z coordinate).
    D2Array,
    /// 3-D.
    D3,
}

impl ImageType {
    /// The Level Zero type.
    pub fn raw(self) -> sys::ze_image_type_t {
        use sys::ze_image_type_t as T;
        match self {
            ImageType::D1 => T::ZE_IMAGE_TYPE_1D,
            ImageType::D1Array => T::ZE_IMAGE_TYPE_1DARRAY,
            ImageType::D2 => T::ZE_IMAGE_TYPE_2D,
            ImageType::D2Array => T::ZE_IMAGE_TYPE_2DARRAY,
            ImageType::D3 => T::ZE_IMAGE_TYPE_3D,
        }
    }

    /// How many coordinates address a texel, array layers included (1, 2 or 3): the
    /// coordinates beyond are unused (origin 0, extent 1 in regions).
    pub fn coordinates(self) -> usize {
        match self {
            ImageType::D1 => 1,
            ImageType::D1Array | ImageType::D2 => 2,
            ImageType::D2Array | ImageType::D3 => 3,
        }
    }

    /// The coordinate that holds the array layer, for arrays.
    pub fn layer_coordinate(self) -> Option<usize> {
        match self {
            ImageType::D1Array => Some(1),
            ImageType::D2Array => Some(2),
            _ => None,
        }
    }
}

bitflags::bitflags! {
    /// How an image is used (`ze_image_flags_t`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct ImageFlags: u32 {
        /// Kernels may write the image (without it, kernels only read it).
        const KERNEL_WRITE = sys::ze_image_flag_t::ZE_IMAGE_FLAG_KERNEL_WRITE.0;
        /// Device accesses bypass the caches (a bias, not a guarantee).
        const BIAS_UNCACHED = sys::ze_image_flag_t::ZE_IMAGE_FLAG_BIAS_UNCACHED.0;
    }
}

/// What an image is: type, format, extent and flags — the typed form of `ze_image_desc_t`
/// (no mipmaps, no extension chain). Built with one constructor per [`ImageType`]; checked
/// when the image is created.
///
/// Extents are `u32` (Level Zero's `width` is a `u64` for buffer images, which this type does
/// not make; device limits are `u32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageDesc {
    ty: ImageType,
    format: ImageFormat,
    width: u32,
    height: u32,
    depth: u32,
    layers: u32,
    flags: ImageFlags,
}

impl ImageDesc {
    fn new(ty: ImageType, format: ImageFormat, [width, height, depth, layers]: [u32; 4]) -> Self {
        ImageDesc {
            ty,
            format,
            width,
            height,
            depth,
            layers,
            flags: ImageFlags::empty(),
        }
    }

    /// A 1-D image of `width` texels.
    pub fn d1(format: ImageFormat, width: u32) -> Self {
        Self::new(ImageType::D1, format, [width, 1, 1, 0])
    }

    /// An array of `layers` 1-D images of `width` texels.
    pub fn d1_array(format: ImageFormat, width: u32, layers: u32) -> Self {
        Self::new(ImageType::D1Array, format, [width, 1, 1, layers])
    }

    /// A 2-D image.
    pub fn d2(format: ImageFormat, width: u32, height: u32) -> Self {
        Self::new(ImageType::D2, format, [width, height, 1, 0])
    }

    /// An array of `layers` 2-D images.
    pub fn d2_array(format: ImageFormat, width: u32, height: u32, layers: u32) -> Self {
        Self::new(ImageType::D2Array, format, [width, height, 1, layers])
    }

    /// A 3-D image.
    pub fn d3(format: ImageFormat, width: u32, height: u32, depth: u32) -> Self {
        Self::new(ImageType::D3, format, [width, height, depth, 0])
    }

    /// With these flags (replacing any set before).
    pub fn with_flags(mut self, flags: ImageFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Kernels may write the image ([`ImageFlags::KERNEL_WRITE`]).
    pub fn kernel_write(mut self) -> Self {
        self.flags |= ImageFlags::KERNEL_WRITE;
        self
    }

    /// Device accesses should bypass the caches ([`ImageFlags::BIAS_UNCACHED`]).
    pub fn bias_uncached(mut self) -> Self {
        self.flags |= ImageFlags::BIAS_UNCACHED;
        self
    }

    /// The type.
    pub fn image_type(&self) -> ImageType {
        self.ty
    }

    /// The texel format.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// The flags.
    pub fn flags(&self) -> ImageFlags {
        self.flags
    }

    /// Width in texels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in texels (1 for 1-D images and arrays).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Depth in texels (1 except for 3-D images).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Array layers (0 for images that are not arrays).
    pub fn layers(&self) -> u32 {
        self.layers
    }

    /// The extent along x, y and z as copy regions address it: array layers included (y of
    /// a 1-D array, z of a 2-D array), 1 along unused coordinates.
    pub fn extent(&self) -> [u32; 3] {
        match self.ty {
            ImageType::D1 => [self.width, 1, 1],
            ImageType::D1Array => [self.width, self.layers, 1],
            ImageType::D2 => [self.width, self.height, 1],
            ImageType::D2Array => [self.width, self.height, self.layers],
            ImageType::D3 => [self.width, self.height, self.depth],
        }
    }

    /// The Level Zero descriptor: unused extents are 1, `arraylevels` is 0 for images that
    /// are not arrays, no mipmaps, no chain.
    pub fn raw(&self) -> sys::ze_image_desc_t {
        sys::ze_image_desc_t {
            flags: self.flags.bits(),
            type_: self.ty.raw(),
            format: self.format.raw(),
            width: u64::from(self.width),
            height: self.height,
            depth: self.depth,
            arraylevels: self.layers,
            miplevels: 0,
            ..Default::default()
        }
    }

    /// Checks the description against the device's limits; returns the image's byte size
    /// (texels × texel size).
    fn check(&self, limits: &ImageProperties) -> Result<usize> {
        const CALL: &str = "zeImageCreate";
        let (d1, d2, d3, layers) = (
            (limits.max_dims_1d, "maxImageDims1D"),
            (limits.max_dims_2d, "maxImageDims2D"),
            (limits.max_dims_3d, "maxImageDims3D"),
            (limits.max_array_slices, "maxImageArraySlices"),
        );
        let dims: &[(&str, u32, (u32, &str))] = match self.ty {
            ImageType::D1 => &[("width", self.width, d1)],
            ImageType::D1Array => &[
                ("width", self.width, d1),
                ("layer count", self.layers, layers),
            ],
            ImageType::D2 => &[("width", self.width, d2), ("height", self.height, d2)],
            ImageType::D2Array => &[
                ("width", self.width, d2),
                ("height", self.height, d2),
                ("layer count", self.layers, layers),
            ],
            ImageType::D3 => &[
                ("width", self.width, d3),
                ("height", self.height, d3),
                ("depth", self.depth, d3),
            ],
        };
        for &(what, value, (max, limit)) in dims {
            if max == 0 {
                return Err(Error::Unsupported {
                    what: "this type of image",
                    why: format!(
                        "the device reports {limit} = 0 (zeDeviceGetImageProperties): no {:?} images",
                        self.ty
                    ),
                });
            }
            if value == 0 {
                return Err(Error::invalid(
                    CALL,
                    format!("the {:?} image's {what} is 0", self.ty),
                ));
            }
            if value > max {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "the {:?} image's {what} {value} exceeds the device's {limit} of {max}",
                        self.ty
                    ),
                ));
            }
        }
        let [x, y, z] = self.extent().map(u64::from);
        let bytes = x
            .checked_mul(y)
            .and_then(|n| n.checked_mul(z))
            .and_then(|n| n.checked_mul(self.format.texel_size() as u64))
            .filter(|&b| b <= isize::MAX as u64);
        bytes.map(|b| b as usize).ok_or_else(|| {
            Error::invalid(
                CALL,
                format!(
                    "an image of {x} x {y} x {z} texels of {} bytes is larger than this process can address",
                    self.format.texel_size()
                ),
            )
        })
    }
}

/// A box of texels of an image: `origin` and `extent` along x, y and z, in texels, array
/// layers included (y of a 1-D array, z of a 2-D array). Along coordinates the image's type
/// does not use, origin 0 and extent 1 (the only values accepted there). A zero extent along
/// a used coordinate is an empty region: nothing is copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ImageRegion {
    /// The first texel.
    pub origin: [u32; 3],
    /// Texels along each coordinate.
    pub extent: [u32; 3],
}

impl ImageRegion {
    /// The region of `extent` texels from `origin`.
    pub const fn new(origin: [u32; 3], extent: [u32; 3]) -> Self {
        ImageRegion { origin, extent }
    }

    /// Whether the region holds no texel (a zero extent).
    pub fn is_empty(&self) -> bool {
        self.extent.contains(&0)
    }

    /// The Level Zero region.
    pub fn raw(&self) -> sys::ze_image_region_t {
        sys::ze_image_region_t {
            originX: self.origin[0],
            originY: self.origin[1],
            originZ: self.origin[2],
            width: self.extent[0],
            height: self.extent[1],
            depth: self.extent[2],
        }
    }

    /// Whether the two regions share a texel.
    fn overlaps(&self, other: &ImageRegion) -> bool {
        (0..3).all(|a| {
            let (s0, e0) = (u64::from(self.origin[a]), u64::from(self.extent[a]));
            let (s1, e1) = (u64::from(other.origin[a]), u64::from(other.extent[a]));
            s0 < s1 + e1 && s1 < s0 + e0
        })
    }
}

impl fmt::Display for ImageRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ([x, y, z], [w, h, d]) = (self.origin, self.extent);
        write!(f, "{w} x {h} x {d} texels at ({x}, {y}, {z})")
    }
}

bitflags::bitflags! {
    /// The sampler filter modes a device supports for an image description
    /// (`ze_image_sampler_filter_flags_t`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct SamplerFilters: u32 {
        /// [`FilterMode::Nearest`](crate::FilterMode::Nearest).
        const POINT = sys::ze_image_sampler_filter_flag_t::ZE_IMAGE_SAMPLER_FILTER_FLAG_POINT.0;
        /// [`FilterMode::Linear`](crate::FilterMode::Linear).
        const LINEAR = sys::ze_image_sampler_filter_flag_t::ZE_IMAGE_SAMPLER_FILTER_FLAG_LINEAR.0;
        const _ = !0;
    }
}

/// What a device supports for an image description (`zeImageGetProperties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageFormatSupport {
    /// The sampler filter modes reads of such an image support (empty: none).
    pub sampler_filters: SamplerFilters,
}

/// Where an image's texels are in the device's memory
/// (`ZE_experimental_image_memory_properties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageMemoryProperties {
    /// Bytes of storage.
    pub size: u64,
    /// Bytes from one row to the next.
    pub row_pitch: u64,
    /// Bytes from one slice (or layer of a 2-D array) to the next.
    pub slice_pitch: u64,
}

impl Device {
    /// What the device supports for images of `desc` (`zeImageGetProperties`): a query
    /// before creating one. A format the device does not support is the driver's error
    /// (`ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT`).
    pub fn image_format_support(&self, desc: &ImageDesc) -> Result<ImageFormatSupport> {
        let raw = desc.raw();
        let mut p = sys::ze_image_properties_t::default();
        // SAFETY: valid device handle, descriptor (no chain) and output.
        unsafe {
            ze!(
                self.api(),
                zeImageGetProperties(self.as_raw(), &raw, &mut p)
            )?
        };
        Ok(ImageFormatSupport {
            sampler_filters: SamplerFilters::from_bits_retain(p.samplerFilterFlags),
        })
    }
}

/// Owns an image's handle; destroyed with the [`Allocation`] that stands for the image,
/// after the last command that uses it was seen complete.
struct ImageObject {
    ctx: Context,
    handle: Handle<sys::_ze_image_handle_t>,
}

impl Drop for ImageObject {
    fn drop(&mut self) {
        // SAFETY: the last reference to the image: every command that used it held one until
        // it was seen complete, and every kernel argument too; destroyed once.
        if let Err(e) = unsafe { ze!(self.ctx.api(), zeImageDestroy(self.handle.0)) } {
            log::error!("level-zero: destroying an image failed: {e}");
        }
    }
}

/// An image (`zeImageCreate`) on one device of a context.
///
/// Owned like a [`DeviceBuffer`](crate::DeviceBuffer): not `Clone`, dropped at will — the
/// commands that use it keep it alive until they are seen complete (see the [module
/// documentation](self)). Only the device touches its texels; the host reaches them through
/// copies. A new image's texels are unspecified. `Send + Sync`: nothing of it changes after
/// creation but through commands, which hazard tracking orders.
pub struct Image {
    alloc: Arc<Allocation>,
    handle: Handle<sys::_ze_image_handle_t>,
    desc: ImageDesc,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("handle", &self.handle.0)
            .field("desc", &self.desc)
            .finish()
    }
}

impl Image {
    /// Creates an image of `desc` on `device` (a device of `ctx`, or a sub-device of one).
    ///
    /// Checked before any call: the device belongs to the context, the image type is
    /// supported (its limit in [`Device::image_properties`] is not 0), no dimension is 0 or
    /// above the device's limit, and the byte size does not overflow. The driver may still
    /// refuse a format (`ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT`) or the size.
    pub fn new(ctx: &Context, device: &Device, desc: &ImageDesc) -> Result<Image> {
        const CALL: &str = "zeImageCreate";
        let index = ctx.device_index(CALL, device)?;
        desc.check(&device.image_properties()?)?;
        let raw = desc.raw();
        let mut h = std::ptr::null_mut();
        // SAFETY: valid context and device of it, a valid descriptor (no chain), an output.
        unsafe {
            ze!(
                ctx.api(),
                zeImageCreate(ctx.as_raw(), device.as_raw(), &raw, &mut h)
            )?
        };
        if h.is_null() {
            return Err(Error::invalid(
                CALL,
                "the driver returned success and a null handle",
            ));
        }
        let object = ImageObject {
            ctx: ctx.clone(),
            handle: Handle(h),
        };
        Ok(Image {
            alloc: Allocation::for_object(ctx, index, Box::new(object)),
            handle: Handle(h),
            desc: *desc,
        })
    }

    /// The description it was created with.
    pub fn desc(&self) -> &ImageDesc {
        &self.desc
    }

    /// The texel format.
    pub fn format(&self) -> ImageFormat {
        self.desc.format
    }

    /// The type.
    pub fn image_type(&self) -> ImageType {
        self.desc.ty
    }

    /// The extent along x, y and z, array layers included ([`ImageDesc::extent`]).
    pub fn extent(&self) -> [u32; 3] {
        self.desc.extent()
    }

    /// The region of the whole image.
    pub fn region(&self) -> ImageRegion {
        ImageRegion::new([0; 3], self.extent())
    }

    /// Bytes of the texels, tightly packed: what a whole-image copy to or from memory moves.
    pub fn size_bytes(&self) -> usize {
        let [x, y, z] = self.extent().map(|e| e as usize);
        // Checked when the image was created.
        x * y * z * self.desc.format.texel_size()
    }

    /// The context the image belongs to.
    pub fn context(&self) -> &Context {
        &self.alloc.ctx
    }

    /// The device the image was created for.
    pub fn device(&self) -> &Device {
        self.alloc
            .device()
            .expect("an image's allocation always has its device")
    }

    /// The raw handle. It stays owned by this object (and the commands that use it).
    pub fn as_raw(&self) -> sys::ze_image_handle_t {
        self.handle.0
    }

    /// What the device supports for this image's description (`zeImageGetProperties`; see
    /// [`Device::image_format_support`]).
    pub fn properties(&self) -> Result<ImageFormatSupport> {
        self.device().image_format_support(&self.desc)
    }

    /// The image's allocation identifier (`zeImageGetAllocPropertiesExt`, of the extension
    /// `ZE_extension_image_query_alloc_properties`; [`Error::Unsupported`] when the driver
    /// does not advertise it).
    pub fn allocation_id(&self) -> Result<u64> {
        let ext = ext_name(sys::ZE_IMAGE_QUERY_ALLOC_PROPERTIES_EXT_NAME);
        if !self.context().driver().has_extension(ext) {
            return Err(Error::Unsupported {
                what: "zeImageGetAllocPropertiesExt",
                why: format!("the driver does not advertise {ext}"),
            });
        }
        let mut p = sys::ze_image_allocation_ext_properties_t::default();
        // SAFETY: valid context and image of it, valid output; the extension is advertised.
        unsafe {
            ze!(
                self.context().api(),
                zeImageGetAllocPropertiesExt(self.context().as_raw(), self.as_raw(), &mut p)
            )?
        };
        Ok(p.id)
    }

    /// Where the texels are in the device's memory (`zeImageGetMemoryPropertiesExp`, of the
    /// extension `ZE_experimental_image_memory_properties`; [`Error::Unsupported`] when the
    /// driver does not advertise it).
    pub fn memory_properties(&self) -> Result<ImageMemoryProperties> {
        let ext = ext_name(sys::ZE_IMAGE_MEMORY_PROPERTIES_EXP_NAME);
        if !self.context().driver().has_extension(ext) {
            return Err(Error::Unsupported {
                what: "zeImageGetMemoryPropertiesExp",
                why: format!("the driver does not advertise {ext}"),
            });
        }
        let mut p = sys::ze_image_memory_properties_exp_t::default();
        // SAFETY: valid image handle and output; the extension is advertised.
        unsafe {
            ze!(
                self.context().api(),
                zeImageGetMemoryPropertiesExp(self.as_raw(), &mut p)
            )?
        };
        Ok(ImageMemoryProperties {
            size: p.size,
            row_pitch: p.rowPitch,
            slice_pitch: p.slicePitch,
        })
    }

    /// How a command uses the image: the use keeps it alive and orders it.
    fn use_(&self, write: bool) -> Use {
        Use {
            alloc: self.alloc.clone(),
            write,
        }
    }

    fn same(&self, other: &Image) -> bool {
        Arc::ptr_eq(&self.alloc, &other.alloc)
    }

    /// Checks `r` against the image (`what`: "source" or "destination"); returns its texel
    /// count (0 for an empty region).
    fn check_region(&self, call: &'static str, what: &str, r: &ImageRegion) -> Result<u64> {
        const AXES: [&str; 3] = ["x", "y", "z"];
        let ty = self.desc.ty;
        let extent = self.extent();
        for axis in 0..3 {
            let (o, e) = (u64::from(r.origin[axis]), u64::from(r.extent[axis]));
            if axis >= ty.coordinates() {
                if o != 0 || e != 1 {
                    return Err(Error::invalid(
                        call,
                        format!(
                            "the {what} region ({r}) has origin {o} and extent {e} along {}, which a {ty:?} image does not use: give origin 0 and extent 1 there",
                            AXES[axis]
                        ),
                    ));
                }
            } else if o + e > u64::from(extent[axis]) {
                let unit = if ty.layer_coordinate() == Some(axis) {
                    "array layers"
                } else {
                    "texels"
                };
                return Err(Error::invalid(
                    call,
                    format!(
                        "the {what} region ({r}) reaches {} along {}, outside the {ty:?} image of {} {unit} there",
                        o + e,
                        AXES[axis],
                        extent[axis]
                    ),
                ));
            }
        }
        // Inside the image, whose byte size fits in an `isize`: no overflow.
        Ok(r.extent.iter().map(|&e| u64::from(e)).product())
    }

    /// Checks that memory of `len` elements of `elem` bytes (`what`) holds exactly the
    /// `texels` of region `r` of this image.
    fn check_bytes(
        &self,
        call: &'static str,
        what: &str,
        r: &ImageRegion,
        texels: u64,
        len: usize,
        elem: usize,
    ) -> Result<()> {
        let texel = self.desc.format.texel_size();
        let expected = texels * texel as u64;
        let given = (len as u128) * (elem as u128);
        if given != u128::from(expected) {
            return Err(Error::invalid(
                call,
                format!(
                    "size mismatch: the image region ({r}) holds {texels} texels of {texel} bytes ({:?}) = {expected} bytes, but the {what} holds {given} bytes ({len} elements of {elem} bytes)",
                    self.desc.format
                ),
            ));
        }
        Ok(())
    }

    /// Checks that a command list may use the image (`what`: its role).
    fn check_for_list(&self, core: &ListCore, call: &'static str, what: &str) -> Result<()> {
        if self.context() != &core.ctx {
            return Err(Error::invalid(
                call,
                format!("the {what} image belongs to another context than the command list"),
            ));
        }
        let (theirs, ours) = (self.device(), &core.device);
        if theirs != ours && !related_devices(theirs, ours)? {
            return Err(Error::invalid(
                call,
                format!(
                    "the {what} image was created for another device than the command list's: an image serves only its device and that device's sub-devices"
                ),
            ));
        }
        Ok(())
    }
}

/// Checks the two images of an image-to-image copy have the same format.
fn same_format(call: &'static str, dst: &Image, src: &Image) -> Result<()> {
    if dst.format() != src.format() {
        return Err(Error::invalid(
            call,
            format!(
                "the source image is {:?} and the destination {:?}: an image copy needs the same format on both sides",
                src.format(),
                dst.format()
            ),
        ));
    }
    Ok(())
}

/// The image commands both list kinds record, written once.
macro_rules! image_commands {
    () => {
        /// Copies the whole image `src` into `dst` (`zeCommandListAppendImageCopy`).
        ///
        /// Checked before any call: both images belong to this list's context and device (or
        /// the device whose sub-device the list's is), have the same format, type and extent,
        /// and are not one image (source and destination may not overlap).
        pub fn copy_image(&mut self, dst: &Image, src: &Image) -> Result<()> {
            const CALL: &str = "zeCommandListAppendImageCopy";
            dst.check_for_list(self.core(), CALL, "destination")?;
            src.check_for_list(self.core(), CALL, "source")?;
            same_format(CALL, dst, src)?;
            if dst.image_type() != src.image_type() || dst.extent() != src.extent() {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "a whole-image copy from a {:?} image of {:?} into a {:?} image of {:?}: the images must have the same type and extent (copy_image_region copies between others)",
                        src.image_type(),
                        src.extent(),
                        dst.image_type(),
                        dst.extent()
                    ),
                ));
            }
            if dst.same(src) {
                return Err(Error::invalid(
                    CALL,
                    "the source and destination are one image: the regions of an image copy may not overlap",
                ));
            }
            let (dh, sh) = (dst.as_raw(), src.as_raw());
            self.record(Cmd::new(CALL, [dst.use_(true), src.use_(false)]), &mut |core, sync| {
                // SAFETY: valid list and image handles of its context and device, kept alive by
                // the list until the copy completes (the uses); valid events, kept alive.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendImageCopy(core.raw(), dh, sh, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Copies region `src_region` of `src` into region `dst_region` of `dst`
        /// (`zeCommandListAppendImageCopyRegion`). The images may be one image when the
        /// regions do not overlap.
        ///
        /// Checked before any call: both images belong to this list's context and device,
        /// have the same format, the regions lie inside their images and have the same
        /// extent, and regions of one image do not overlap. An empty region copies nothing
        /// (no call).
        pub fn copy_image_region(
            &mut self,
            dst: &Image,
            dst_region: ImageRegion,
            src: &Image,
            src_region: ImageRegion,
        ) -> Result<()> {
            const CALL: &str = "zeCommandListAppendImageCopyRegion";
            dst.check_for_list(self.core(), CALL, "destination")?;
            src.check_for_list(self.core(), CALL, "source")?;
            same_format(CALL, dst, src)?;
            let texels = dst.check_region(CALL, "destination", &dst_region)?;
            src.check_region(CALL, "source", &src_region)?;
            if dst_region.extent != src_region.extent {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "the source region ({src_region}) and the destination region ({dst_region}) differ in extent"
                    ),
                ));
            }
            if texels == 0 {
                return Ok(());
            }
            if dst.same(src) && dst_region.overlaps(&src_region) {
                return Err(Error::invalid(
                    CALL,
                    format!(
                        "the source region ({src_region}) and the destination region ({dst_region}) of one image overlap, which an image copy may not do"
                    ),
                ));
            }
            let (dh, sh, dr, sr) = (dst.as_raw(), src.as_raw(), dst_region.raw(), src_region.raw());
            self.record(Cmd::new(CALL, [dst.use_(true), src.use_(false)]), &mut |core, sync| {
                // SAFETY: valid list and image handles kept alive by the list until the copy
                // completes; regions checked inside their images, read during the call; valid
                // events, kept alive.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendImageCopyRegion(core.raw(), dh, sh, &dr, &sr, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Copies memory `src` into region `region` of image `dst`
        /// (`zeCommandListAppendImageCopyFromMemory`). `src` holds the region's texels
        /// tightly packed (see the [`image`](crate::image) module), and exactly as many bytes.
        ///
        /// Checked before any call: the image belongs to this list's context and device, the
        /// memory to its context and a device it can reach, the region lies inside the image,
        /// and `src` holds the region's texel count × texel size bytes (the error names both
        /// sizes). An empty region copies nothing (no call).
        pub fn copy_to_image<T: Pod>(
            &mut self,
            dst: &Image,
            region: ImageRegion,
            src: &impl Memory<T>,
        ) -> Result<()> {
            const CALL: &str = "zeCommandListAppendImageCopyFromMemory";
            dst.check_for_list(self.core(), CALL, "destination")?;
            let s = src.region();
            self.core().check_memory(CALL, "source", &s.alloc.ctx, s.alloc.device())?;
            let texels = dst.check_region(CALL, "destination", &region)?;
            dst.check_bytes(CALL, "source", &region, texels, src.len(), size_of::<T>())?;
            if texels == 0 {
                return Ok(());
            }
            let (ih, sp, r) = (dst.as_raw(), s.ptr().cast_const(), region.raw());
            self.record(Cmd::new(CALL, [dst.use_(true), s.use_(false)]), &mut |core, sync| {
                // SAFETY: a valid image of the list's context and device and a range of a live
                // allocation of its context, both kept alive by the list until the copy
                // completes; the range holds exactly the region's bytes (checked); valid events.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendImageCopyFromMemory(core.raw(), ih, sp, &r, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }

        /// Copies region `region` of image `src` into memory `dst`
        /// (`zeCommandListAppendImageCopyToMemory`), tightly packed; `dst` holds exactly the
        /// region's bytes. Checked as [`copy_to_image`](Self::copy_to_image) is.
        pub fn copy_from_image<T: Pod>(
            &mut self,
            dst: &impl Memory<T>,
            src: &Image,
            region: ImageRegion,
        ) -> Result<()> {
            const CALL: &str = "zeCommandListAppendImageCopyToMemory";
            src.check_for_list(self.core(), CALL, "source")?;
            let d = dst.region();
            self.core().check_memory(CALL, "destination", &d.alloc.ctx, d.alloc.device())?;
            let texels = src.check_region(CALL, "source", &region)?;
            src.check_bytes(CALL, "destination", &region, texels, dst.len(), size_of::<T>())?;
            if texels == 0 {
                return Ok(());
            }
            let (dp, ih, r) = (d.ptr(), src.as_raw(), region.raw());
            self.record(Cmd::new(CALL, [d.use_(true), src.use_(false)]), &mut |core, sync| {
                // SAFETY: as for `copy_to_image`, with the memory written.
                unsafe {
                    ze!(
                        core.api(),
                        zeCommandListAppendImageCopyToMemory(core.raw(), dp, ih, &r, sync.signal, sync.count(), sync.waits_ptr())
                    )
                }
            })
        }
    };
}

impl CommandList {
    image_commands!();
}

impl ImmediateCommandList {
    image_commands!();

    /// Copies the host slice `src` into region `region` of image `dst` and waits for the copy
    /// (and everything appended before it) to complete, so `src` is free again on return —
    /// as [`copy_from_slice`](Self::copy_from_slice) does for buffers. `src` holds the
    /// region's texels tightly packed, exactly as many bytes; checked as
    /// [`copy_to_image`](Self::copy_to_image) is.
    pub fn copy_slice_to_image<T: Pod>(
        &mut self,
        dst: &Image,
        region: ImageRegion,
        src: &[T],
    ) -> Result<()> {
        const CALL: &str = "zeCommandListAppendImageCopyFromMemory";
        dst.check_for_list(self.core(), CALL, "destination")?;
        let texels = dst.check_region(CALL, "destination", &region)?;
        dst.check_bytes(
            CALL,
            "host slice",
            &region,
            texels,
            src.len(),
            size_of::<T>(),
        )?;
        if texels == 0 {
            return Ok(());
        }
        self.check_can_wait()?;
        let (ih, sp, r) = (dst.as_raw(), src.as_ptr().cast::<c_void>(), region.raw());
        self.record(Cmd::new(CALL, [dst.use_(true)]), &mut |core, sync| {
            // SAFETY: a valid image kept alive by the list; the host range is the region's
            // bytes of a live slice borrowed until the synchronisation below has seen the copy
            // complete; valid events.
            unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendImageCopyFromMemory(
                        core.raw(),
                        ih,
                        sp,
                        &r,
                        sync.signal,
                        sync.count(),
                        sync.waits_ptr()
                    )
                )
            }
        })?;
        self.end_borrow(CALL)
    }

    /// Copies region `region` of image `src` into the host slice `dst` and waits for the copy
    /// (and everything appended before it) to complete — as
    /// [`copy_to_slice`](Self::copy_to_slice) does for buffers. `dst` holds exactly the
    /// region's bytes; checked as [`copy_to_image`](Self::copy_to_image) is.
    pub fn copy_image_to_slice<T: Pod>(
        &mut self,
        dst: &mut [T],
        src: &Image,
        region: ImageRegion,
    ) -> Result<()> {
        const CALL: &str = "zeCommandListAppendImageCopyToMemory";
        src.check_for_list(self.core(), CALL, "source")?;
        let texels = src.check_region(CALL, "source", &region)?;
        src.check_bytes(
            CALL,
            "host slice",
            &region,
            texels,
            dst.len(),
            size_of::<T>(),
        )?;
        if texels == 0 {
            return Ok(());
        }
        self.check_can_wait()?;
        let (dp, ih, r) = (
            dst.as_mut_ptr().cast::<c_void>(),
            src.as_raw(),
            region.raw(),
        );
        self.record(Cmd::new(CALL, [src.use_(false)]), &mut |core, sync| {
            // SAFETY: as for `copy_slice_to_image`, with the slice written (borrowed mutably
            // until the synchronisation below).
            unsafe {
                ze!(
                    core.api(),
                    zeCommandListAppendImageCopyToMemory(
                        core.raw(),
                        dp,
                        ih,
                        &r,
                        sync.signal,
                        sync.count(),
                        sync.waits_ptr()
                    )
                )
            }
        })?;
        self.end_borrow(CALL)
    }
}

impl Kernel {
    /// Sets argument `index`, an image (`image2d_t` and the like), to `image`: the driver
    /// receives a pointer to its handle (`zeKernelSetArgumentValue` with
    /// `sizeof(ze_image_handle_t)`), as the specification says for image arguments.
    ///
    /// The kernel keeps the image alive while the argument holds it, and every launch keeps
    /// the one of its issue until it completes. A launch counts as a write of the image for
    /// hazard tracking, whatever the image's flags (conservatively, as for buffers).
    ///
    /// Checked before any call: the index is in range, and the image belongs to the kernel's
    /// context and to its device (or the device whose sub-device the kernel's is). Whether
    /// argument `index` is an image, and whether a kernel that writes it was given an image
    /// created with [`ImageFlags::KERNEL_WRITE`], is the driver's to check — and the
    /// launch's contract (launches are `unsafe`).
    pub fn set_arg_image(&mut self, index: u32, image: &Image) -> Result<()> {
        const CALL: &str = "zeKernelSetArgumentValue";
        self.check_index(index)?;
        if image.context() != self.context() {
            return Err(Error::invalid(
                CALL,
                "the image belongs to another context than the kernel",
            ));
        }
        let (theirs, ours) = (image.device(), self.device());
        if theirs != ours && !related_devices(theirs, ours)? {
            return Err(Error::invalid(
                CALL,
                "the image was created for another device than the kernel's (or its root device)",
            ));
        }
        let handle = image.as_raw();
        self.set_arg_use(index, &handle, image.use_(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_samplers_are_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Image>();
        shared::<crate::Sampler>();
        shared::<ImageDesc>();
    }

    #[test]
    fn formats_have_their_sizes_and_layouts() {
        assert_eq!(ImageFormat::ALL.len(), 36);
        assert_eq!(ImageFormat::R8Unorm.texel_size(), 1);
        assert_eq!(ImageFormat::Rg16Float.texel_size(), 4);
        assert_eq!(ImageFormat::Rgba32Float.texel_size(), 16);
        assert_eq!(ImageFormat::Rgba16Sint.channel_type(), ChannelType::Sint);
        let mut seen = std::collections::HashSet::new();
        for f in ImageFormat::ALL {
            let raw = f.raw();
            assert!(
                seen.insert((raw.layout.0, raw.type_.0)),
                "{f:?} repeats a format"
            );
            assert_eq!(f.texel_size() as u32 * 8, f.channels() * f.channel_bits());
        }
    }

    #[test]
    fn extents_put_layers_where_regions_address_them() {
        let f = ImageFormat::R8Uint;
        assert_eq!(ImageDesc::d1(f, 7).extent(), [7, 1, 1]);
        assert_eq!(ImageDesc::d1_array(f, 7, 3).extent(), [7, 3, 1]);
        assert_eq!(ImageDesc::d2(f, 7, 5).extent(), [7, 5, 1]);
        assert_eq!(ImageDesc::d2_array(f, 7, 5, 3).extent(), [7, 5, 3]);
        assert_eq!(ImageDesc::d3(f, 7, 5, 2).extent(), [7, 5, 2]);
        let raw = ImageDesc::d2_array(f, 7, 5, 3).kernel_write().raw();
        assert_eq!(
            (raw.width, raw.height, raw.depth, raw.arraylevels),
            (7, 5, 1, 3)
        );
        assert_eq!(raw.flags, ImageFlags::KERNEL_WRITE.bits());
    }

    fn limits() -> ImageProperties {
        ImageProperties {
            max_dims_1d: 16384,
            max_dims_2d: 16384,
            max_dims_3d: 2048,
            max_buffer_size: 1 << 28,
            max_array_slices: 2048,
            max_samplers: 16,
            max_read_image_args: 128,
            max_write_image_args: 128,
        }
    }

    #[test]
    fn descriptions_are_checked_against_the_limits() {
        let f = ImageFormat::Rgba32Float;
        assert_eq!(ImageDesc::d3(f, 4, 4, 4).check(&limits()).unwrap(), 1024);
        let e = ImageDesc::d2(f, 0, 4).check(&limits()).unwrap_err();
        assert!(e.to_string().contains("width is 0"), "{e}");
        let e = ImageDesc::d2_array(f, 4, 4, 4096)
            .check(&limits())
            .unwrap_err();
        assert!(e.to_string().contains("maxImageArraySlices of 2048"), "{e}");
        let e = ImageDesc::d3(f, 4096, 1, 1).check(&limits()).unwrap_err();
        assert!(e.to_string().contains("maxImageDims3D"), "{e}");
        let no_3d = ImageProperties {
            max_dims_3d: 0,
            ..limits()
        };
        let e = ImageDesc::d3(f, 1, 1, 1).check(&no_3d).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        // Limits a driver may report that would overflow the byte size.
        let huge = ImageProperties {
            max_dims_3d: u32::MAX,
            ..limits()
        };
        let e = ImageDesc::d3(f, u32::MAX, u32::MAX, u32::MAX)
            .check(&huge)
            .unwrap_err();
        assert!(e.to_string().contains("larger than this process"), "{e}");
    }

    #[test]
    fn overlap_is_per_axis() {
        let a = ImageRegion::new([0, 0, 0], [4, 4, 1]);
        assert!(a.overlaps(&ImageRegion::new([3, 3, 0], [4, 4, 1])));
        assert!(!a.overlaps(&ImageRegion::new([4, 0, 0], [4, 4, 1])));
        assert!(!a.overlaps(&ImageRegion::new([0, 0, 1], [4, 4, 1])));
        let far = ImageRegion::new([u32::MAX, 0, 0], [u32::MAX, 1, 1]);
        assert!(!a.overlaps(&far));
    }
}
