//! Image instructions (`ImageBasic`; decoded by `decode/images.rs`): reads, writes and
//! sampled reads of the kernel's image arguments, and their queries.
//!
//! An image's texels are read and written through the launch's memory checks like any global
//! access (the driver puts image storage in the launch's `MemoryMap`). Texels are converted
//! as OpenCL specifies: normalised channels to floats in `[0, 1]` or `[-1, 1]` (and back,
//! rounding to nearest even after clamping), half and float channels as floats, integer
//! channels sign- or zero-extended (and written with saturation). The format's swizzle
//! chooses what a read returns in x, y, z, w; a missing channel reads 0 (1 in w).
//!
//! Sampling follows OpenCL 1.2's rules (section 8.2): nearest and linear filtering,
//! normalised or unnormalised coordinates, the addressing modes none, clamp-to-edge, clamp
//! (border colour 0, with alpha 1 when the format has no alpha channel), repeat and mirrored
//! repeat; the layer of an array image is the rounded, clamped last coordinate. Integer
//! coordinates of `OpImageRead`/`OpImageWrite` outside the image fail the launch naming the
//! work-item, the argument and the coordinates (the specification leaves them undefined).

use half::f16;

use super::lanes::s;
use super::{Exec, Stop};
use crate::ArgValue;
use crate::ir::{ImageInst, ImageOp, Slot, TexelKind};
use crate::mem::{self, Space};
use crate::module::sampler_of;
use crate::ops::{Fk, mask, sext};
use crate::{AddressMode, ChannelType, FilterMode, ImageArg, ImageDim, SamplerArg, Swizzle};

/// A texel's 4 components, as floats or as integers.
#[derive(Clone, Copy)]
enum Texel {
    F([f32; 4]),
    I([i64; 4]),
}

impl Exec<'_> {
    /// Sets component `c` of result `x` of `lane` (operands are read with `Exec::reg`).
    fn set1(&mut self, x: Slot, c: u16, lane: usize, v: u64) {
        self.regs[s(x + u32::from(c), self.lanes) + lane] = v;
    }

    /// The image argument an image value names.
    fn image_arg(&self, v: u64) -> Result<(usize, ImageArg), Stop> {
        let k = (v & 0xffff_ffff) as usize;
        match self.sh.args.get(k) {
            Some(ArgValue::Image(ia)) => Ok((k, *ia)),
            _ => Err(Stop::Failed(format!(
                "an image operand names argument {k}, which is not an image"
            ))),
        }
    }

    /// `Inst::Image` for the lanes of `act`.
    pub(super) fn image(&mut self, x: &ImageInst, act: &[u32]) -> Result<(), Stop> {
        for &lane in act {
            let lane = lane as usize;
            let v = self.reg(x.img, 0, lane);
            if x.op == ImageOp::Sampled {
                let smp = self.reg(x.coord, 0, lane);
                self.set1(x.d, 0, lane, (v & 0xffff_ffff) | (smp << 32));
                continue;
            }
            let (k, ia) = self.image_arg(v)?;
            let declared = match (x.dim, x.arrayed) {
                (rspirv::spirv::Dim::Dim1D, false) => ImageDim::D1,
                (rspirv::spirv::Dim::Dim1D, true) => ImageDim::D1Array,
                (rspirv::spirv::Dim::Dim2D, false) => ImageDim::D2,
                (rspirv::spirv::Dim::Dim2D, true) => ImageDim::D2Array,
                (rspirv::spirv::Dim::Dim3D, _) => ImageDim::D3,
                _ => ImageDim::Buffer,
            };
            if declared != ia.dim {
                return Err(Stop::Failed(format!(
                    "image argument {k} is a {:?} image; the kernel uses it as a {declared:?} image",
                    ia.dim
                )));
            }
            match x.op {
                ImageOp::Sampled => {}
                ImageOp::QuerySize | ImageOp::QueryFormat | ImageOp::QueryOrder => {
                    let vals: Vec<u64> = match x.op {
                        ImageOp::QuerySize => size_of(&ia).iter().map(|&e| u64::from(e)).collect(),
                        ImageOp::QueryFormat => vec![data_type(&ia)],
                        _ => vec![channel_order(&ia)],
                    };
                    let w = match x.kind {
                        TexelKind::Int(w) => w,
                        TexelKind::Float(_) => 32,
                    };
                    for c in 0..x.n {
                        let v = vals.get(usize::from(c)).copied().unwrap_or(0);
                        self.set1(x.d, c, lane, v & mask(w));
                    }
                }
                ImageOp::Read | ImageOp::Write => {
                    let xyz = self.int_coords(x, &ia, k, lane)?;
                    if x.op == ImageOp::Read {
                        let t = self.fetch(&ia, xyz, x.kind, lane, x.site)?;
                        self.put_texel(x, lane, t);
                    } else {
                        self.store_texel(&ia, xyz, x, lane)?;
                    }
                }
                ImageOp::Sample => {
                    let smp = sampler_of(v >> 32);
                    let t = self.sample(x, &ia, smp, lane)?;
                    self.put_texel(x, lane, t);
                }
            }
        }
        Ok(())
    }

    /// The integer coordinates of a read or write, checked against the image.
    fn int_coords(
        &self,
        x: &ImageInst,
        ia: &ImageArg,
        k: usize,
        lane: usize,
    ) -> Result<[u64; 3], Stop> {
        let w = x.coord_int.unwrap_or(32);
        let n = coord_count(ia);
        let mut xyz = [0u64; 3];
        let mut given = Vec::new();
        for (c, slot) in xyz.iter_mut().enumerate().take(n) {
            let v = sext(self.reg(x.coord, c as u16, lane), w);
            given.push(v);
            if v < 0 || v >= i64::from(ia.extent[c]) {
                let id = self.global_id(lane);
                return Err(Stop::Failed(format!(
                    "work-item {id:?} accessed image argument {k} at {given:?}, outside its extent {:?}",
                    &ia.extent[..n]
                )));
            }
            *slot = v as u64;
        }
        Ok(xyz)
    }

    /// The raw channels of texel `xyz`.
    fn channels(
        &mut self,
        ia: &ImageArg,
        xyz: [u64; 3],
        lane: usize,
        site: u32,
    ) -> Result<[u64; 4], Stop> {
        let f = ia.format;
        let cb = u64::from(f.channel_bytes);
        let at = texel_addr(ia, xyz);
        let mut out = [0u64; 4];
        for (c, o) in out.iter_mut().enumerate().take(usize::from(f.channels)) {
            let addr = at.wrapping_add(c as u64 * cb);
            let checked = self
                .mem
                .check(Space::Global, addr, cb, lane, site as usize)
                .map_err(|fault| Stop::Oob {
                    lane,
                    fault,
                    write: false,
                })?;
            *o = mem::read(checked);
        }
        Ok(out)
    }

    /// Texel `xyz` converted for a read of `kind`, swizzled.
    fn fetch(
        &mut self,
        ia: &ImageArg,
        xyz: [u64; 3],
        kind: TexelKind,
        lane: usize,
        site: u32,
    ) -> Result<Texel, Stop> {
        let raw = self.channels(ia, xyz, lane, site)?;
        let f = ia.format;
        let bits = f.channel_bytes * 8;
        Ok(match kind {
            TexelKind::Float(_) => {
                let ch: [f32; 4] = std::array::from_fn(|c| to_float(raw[c], f.channel_type, bits));
                Texel::F(swizzle(f.swizzle, f.channels, ch, 1.0))
            }
            TexelKind::Int(_) => {
                let ch: [i64; 4] = std::array::from_fn(|c| match f.channel_type {
                    ChannelType::Sint => sext(raw[c], bits),
                    _ => raw[c] as i64,
                });
                Texel::I(swizzle(f.swizzle, f.channels, ch, 1))
            }
        })
    }

    /// Writes a texel result to `d`.
    fn put_texel(&mut self, x: &ImageInst, lane: usize, t: Texel) {
        for c in 0..4u16 {
            let v = match (t, x.kind) {
                (Texel::F(f), TexelKind::Float(Fk::H)) => {
                    u64::from(f16::from_f32(f[usize::from(c)]).to_bits())
                }
                (Texel::F(f), TexelKind::Float(Fk::D)) => f64::from(f[usize::from(c)]).to_bits(),
                (Texel::F(f), TexelKind::Float(Fk::S)) => u64::from(f[usize::from(c)].to_bits()),
                (Texel::I(i), TexelKind::Int(w)) => (i[usize::from(c)] as u64) & mask(w),
                // A float read into integers or the reverse does not occur (the decoder
                // picks the conversion from the result type).
                (Texel::F(f), TexelKind::Int(w)) => (f[usize::from(c)] as i64 as u64) & mask(w),
                (Texel::I(i), TexelKind::Float(_)) => {
                    u64::from((i[usize::from(c)] as f32).to_bits())
                }
            };
            self.set1(x.d, c, lane, v);
        }
    }

    /// `OpImageWrite`: the texel operand converted to the image's channels.
    fn store_texel(
        &mut self,
        ia: &ImageArg,
        xyz: [u64; 3],
        x: &ImageInst,
        lane: usize,
    ) -> Result<(), Stop> {
        let f = ia.format;
        let bits = f.channel_bytes * 8;
        let cb = u64::from(f.channel_bytes);
        let at = texel_addr(ia, xyz);
        for c in 0..f.channels {
            // The component whose swizzle reads this channel (else the channel's own).
            let comp = f
                .swizzle
                .iter()
                .position(|s| *s == Swizzle::Channel(c))
                .unwrap_or(usize::from(c)) as u16;
            let v = self.reg(x.texel, comp, lane);
            let raw = match x.kind {
                TexelKind::Float(k) => {
                    let fv = match k {
                        Fk::H => f16::from_bits(v as u16).to_f32(),
                        Fk::S => f32::from_bits(v as u32),
                        Fk::D => f64::from_bits(v) as f32,
                    };
                    from_float(fv, f.channel_type, bits)
                }
                TexelKind::Int(w) => from_int(v, w, f.channel_type, bits),
            };
            let addr = at.wrapping_add(u64::from(c) * cb);
            let checked = self
                .mem
                .check_write(Space::Global, addr, cb, lane, x.site as usize)
                .map_err(|fault| Stop::Oob {
                    lane,
                    fault,
                    write: true,
                })?;
            mem::write(checked, raw);
        }
        Ok(())
    }

    /// `OpImageSampleExplicitLod`: the sampled texel at the lane's coordinates.
    fn sample(
        &mut self,
        x: &ImageInst,
        ia: &ImageArg,
        smp: SamplerArg,
        lane: usize,
    ) -> Result<Texel, Stop> {
        let n = coord_count(ia);
        let layered = matches!(ia.dim, ImageDim::D1Array | ImageDim::D2Array);
        let spatial = if layered { n - 1 } else { n };
        let coord = |c: usize| -> f32 {
            let v = self.reg(x.coord, c as u16, lane);
            match x.coord_int {
                Some(w) => sext(v, w) as f32,
                None => f32::from_bits(v as u32),
            }
        };
        // The layer: rounded to nearest even and clamped.
        let mut layer = 0u64;
        if layered {
            let l = coord(n - 1).round_ties_even();
            let max = ia.extent[n - 1].saturating_sub(1) as f32;
            layer = l.clamp(0.0, max) as u64;
        }
        // Per spatial dimension: up to two texel indices (None: border) and their weights.
        let mut taps: Vec<[(Option<u64>, f32); 2]> = Vec::new();
        let linear = smp.filter == FilterMode::Linear && x.coord_int.is_none();
        for d in 0..spatial {
            let size = ia.extent[d].max(1) as i64;
            taps.push(axis(coord(d), size, smp, linear));
        }
        let border_alpha = if ia.format.channels < 4 { 1.0 } else { 0.0 };
        let mut acc_f = [0f32; 4];
        let mut result_i = None;
        // Every combination of the dimensions' taps.
        let combos = 1usize << spatial;
        for m in 0..combos {
            let mut w = 1f32;
            let mut xyz = [0u64; 3];
            let mut border = false;
            for d in 0..spatial {
                let (i, wt) = taps[d][(m >> d) & 1];
                w *= wt;
                match i {
                    Some(i) => xyz[d] = i,
                    None => border = true,
                }
            }
            if w == 0.0 {
                continue;
            }
            if layered {
                xyz[n - 1] = layer;
            }
            let t = if border {
                match x.kind {
                    TexelKind::Float(_) => Texel::F([0.0, 0.0, 0.0, border_alpha]),
                    TexelKind::Int(_) => Texel::I([0, 0, 0, border_alpha as i64]),
                }
            } else {
                self.fetch(ia, xyz, x.kind, lane, x.site)?
            };
            match t {
                Texel::F(f) => {
                    for c in 0..4 {
                        acc_f[c] += w * f[c];
                    }
                }
                Texel::I(i) => result_i = Some(i),
            }
        }
        Ok(match result_i {
            Some(i) => Texel::I(i),
            None => Texel::F(acc_f),
        })
    }
}

/// The texel indices and weights along one axis of `size` texels for coordinate `s`
/// (OpenCL 1.2, 8.2): nearest gives one tap of weight 1, linear two.
fn axis(s: f32, size: i64, smp: SamplerArg, linear: bool) -> [(Option<u64>, f32); 2] {
    let n = size as f32;
    let clamp_edge = |i: i64| Some(i.clamp(0, size - 1) as u64);
    let border = |i: i64| (0..size).contains(&i).then_some(i as u64);
    let none = [(None, 0.0), (None, 0.0)];
    match (smp.address, smp.normalized) {
        (AddressMode::Repeat, true) => {
            let u = (s - s.floor()) * n;
            if linear {
                let mut i0 = (u - 0.5).floor() as i64;
                let mut i1 = i0 + 1;
                let a = (u - 0.5) - (u - 0.5).floor();
                if i0 < 0 {
                    i0 += size;
                }
                if i1 > size - 1 {
                    i1 -= size;
                }
                [(clamp_edge(i0), 1.0 - a), (clamp_edge(i1), a)]
            } else {
                let mut i = u.floor() as i64;
                if i > size - 1 {
                    i -= size;
                }
                [(clamp_edge(i), 1.0), none[1]]
            }
        }
        (AddressMode::Mirror, true) => {
            let sp = (s - 2.0 * (0.5 * s).round_ties_even()).abs();
            let u = sp * n;
            if linear {
                let i0 = ((u - 0.5).floor() as i64).max(0);
                let i1 = ((u - 0.5).floor() as i64 + 1).min(size - 1);
                let a = (u - 0.5) - (u - 0.5).floor();
                [(clamp_edge(i0), 1.0 - a), (clamp_edge(i1), a)]
            } else {
                let i = (u.floor() as i64).min(size - 1);
                [(clamp_edge(i), 1.0), none[1]]
            }
        }
        (mode, normalized) => {
            // Repeat and mirror with unnormalised coordinates are undefined: clamped here.
            let u = if normalized { s * n } else { s };
            let pick = |i: i64| {
                if mode == AddressMode::Clamp {
                    border(i)
                } else {
                    clamp_edge(i)
                }
            };
            if linear {
                let i0 = (u - 0.5).floor() as i64;
                let a = (u - 0.5) - (u - 0.5).floor();
                [(pick(i0), 1.0 - a), (pick(i0 + 1), a)]
            } else {
                [(pick(u.floor() as i64), 1.0), none[1]]
            }
        }
    }
}

/// How many coordinates address a texel of the image (array layers included).
fn coord_count(ia: &ImageArg) -> usize {
    match ia.dim {
        ImageDim::D1 | ImageDim::Buffer => 1,
        ImageDim::D1Array | ImageDim::D2 => 2,
        ImageDim::D2Array | ImageDim::D3 => 3,
    }
}

/// What `OpImageQuerySize` gives: the extent along each coordinate (layers last).
fn size_of(ia: &ImageArg) -> Vec<u32> {
    ia.extent[..coord_count(ia)].to_vec()
}

/// The address of texel `xyz`.
fn texel_addr(ia: &ImageArg, xyz: [u64; 3]) -> u64 {
    let ts = u64::from(ia.format.channels) * u64::from(ia.format.channel_bytes);
    ia.base
        .wrapping_add(xyz[2].wrapping_mul(ia.slice_pitch))
        .wrapping_add(xyz[1].wrapping_mul(ia.row_pitch))
        .wrapping_add(xyz[0].wrapping_mul(ts))
}

/// The SPIR-V `ImageChannelDataType` of the image's format.
fn data_type(ia: &ImageArg) -> u64 {
    match (ia.format.channel_type, ia.format.channel_bytes) {
        (ChannelType::Snorm, 1) => 0,
        (ChannelType::Snorm, _) => 1,
        (ChannelType::Unorm, 1) => 2,
        (ChannelType::Unorm, _) => 3,
        (ChannelType::Sint, 1) => 7,
        (ChannelType::Sint, 2) => 8,
        (ChannelType::Sint, _) => 9,
        (ChannelType::Uint, 1) => 10,
        (ChannelType::Uint, 2) => 11,
        (ChannelType::Uint, _) => 12,
        (ChannelType::Float, 2) => 13,
        (ChannelType::Float, _) => 14,
    }
}

/// The SPIR-V `ImageChannelOrder` of the image's format.
fn channel_order(ia: &ImageArg) -> u64 {
    use Swizzle::Channel as C;
    match ia.format.channels {
        1 => 0,
        2 => 2,
        3 => 4,
        _ if ia.format.swizzle == [C(2), C(1), C(0), C(3)] => 6,
        _ => 5,
    }
}

/// Applies a format's swizzle to channels `ch` (`channels` of them): a missing channel is 0
/// (and `one` in w).
fn swizzle<T: Copy + Default>(sw: [Swizzle; 4], channels: u8, ch: [T; 4], one: T) -> [T; 4] {
    std::array::from_fn(|i| match sw[i] {
        Swizzle::Channel(c) if c < channels => ch[usize::from(c)],
        Swizzle::Channel(_) if i == 3 => one,
        Swizzle::Channel(_) | Swizzle::Zero => T::default(),
        Swizzle::One => one,
    })
}

/// A channel's bits as a float read sees them.
fn to_float(raw: u64, ty: ChannelType, bits: u8) -> f32 {
    match ty {
        ChannelType::Unorm => raw as f32 / mask(bits) as f32,
        ChannelType::Snorm => (sext(raw, bits) as f32 / (mask(bits - 1)) as f32).max(-1.0),
        ChannelType::Float if bits == 16 => f16::from_bits(raw as u16).to_f32(),
        ChannelType::Float => f32::from_bits(raw as u32),
        ChannelType::Sint => sext(raw, bits) as f32,
        ChannelType::Uint => raw as f32,
    }
}

/// A float written to a channel.
fn from_float(v: f32, ty: ChannelType, bits: u8) -> u64 {
    match ty {
        ChannelType::Unorm => {
            let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
            (v * mask(bits) as f32).round_ties_even() as u64
        }
        ChannelType::Snorm => {
            let v = if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) };
            ((v * mask(bits - 1) as f32).round_ties_even() as i64 as u64) & mask(bits)
        }
        ChannelType::Float if bits == 16 => u64::from(f16::from_f32(v).to_bits()),
        ChannelType::Float => u64::from(v.to_bits()),
        // Float data to integer channels is undefined: converted with saturation.
        ChannelType::Sint => {
            (v as i64).clamp(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) as u64 & mask(bits)
        }
        ChannelType::Uint => (v as i64).clamp(0, mask(bits) as i64) as u64,
    }
}

/// An integer component (`w` bits) written to a channel, with saturation.
fn from_int(v: u64, w: u8, ty: ChannelType, bits: u8) -> u64 {
    match ty {
        ChannelType::Sint => {
            let x = sext(v, w).clamp(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
            x as u64 & mask(bits)
        }
        ChannelType::Uint => (v & mask(w)).min(mask(bits)),
        // Integer data to normalised or float channels is undefined: stored as converted.
        ChannelType::Float | ChannelType::Unorm | ChannelType::Snorm => {
            from_float(sext(v, w) as f32, ty, bits)
        }
    }
}
