//! Image instructions (`ImageBasic`, with `ImageReadWrite`, `Sampled1D`, `Image1D`,
//! `SampledBuffer`, `ImageBuffer` for their image shapes, and `LiteralSampler`'s
//! `OpConstantSampler` in `module.rs`): `OpSampledImage`, `OpImageRead`, `OpImageWrite`,
//! `OpImageSampleExplicitLod` at level of detail 0, `OpImageQuerySize[Lod]` (level 0),
//! `OpImageQueryFormat`, `OpImageQueryOrder`: `Inst::Image`, run by `exec/images.rs`.
//!
//! Image and sampler values are 8-byte registers (`module::Handle`): an image is the index of
//! the kernel parameter it came from (an OpenCL image cannot be made any other way; at -O0
//! it goes through a private variable, as any 8-byte value), a sampler its bits
//! (`module::sampler_bits`), a sampled image both. Image operands other than a constant
//! level of detail 0 (`Lod`), and the sign/zero-extension hints of SPIR-V 1.4, are refused.

use super::{Dec, Instance};
use crate::ir::{ImageInst, ImageOp, Inst, Slot, TexelKind};
use crate::module::{Handle, ImageTy, Res, Sc, Ty, op_id};
use rspirv::dr;
use rspirv::spirv::{Op, Word};

impl Dec<'_, '_> {
    /// The image type of value `v` (an image or a sampled image).
    fn image_ty(&self, v: Word) -> Res<ImageTy> {
        let t = self.ty_of(v)?;
        match self.md.ty(t)? {
            Ty::Handle(Handle::Image(it)) => Ok(*it),
            Ty::Handle(Handle::SampledImage(img)) => match self.md.ty(*img)? {
                Ty::Handle(Handle::Image(it)) => Ok(*it),
                _ => Err("invalid SPIR-V: a sampled image of a non-image".into()),
            },
            other => Err(format!(
                "invalid SPIR-V: an image operand of type {other:?}"
            )),
        }
    }

    /// The components of a texel value of type `t`.
    fn texel_kind(&self, t: Word) -> Res<(TexelKind, u16)> {
        let n = self.md.width(t)?;
        Ok(match self.md.scalar(t)? {
            Sc::Float(k) => (TexelKind::Float(k), n),
            Sc::Int(w) => (TexelKind::Int(w), n),
            other => return Err(format!("invalid SPIR-V: a texel of {other:?}")),
        })
    }

    /// Refuses image operands (operand `k` on) other than a constant level of detail 0.
    fn level_zero_only(&self, i: &dr::Instruction, k: usize) -> Res<()> {
        let op = i.class.opcode;
        match i.operands.get(k) {
            None => Ok(()),
            Some(dr::Operand::ImageOperands(m)) if *m == rspirv::spirv::ImageOperands::LOD => {
                let lod = op_id(i, k + 1)?;
                match self.md.consts.get(&lod).and_then(|v| v.first()) {
                    // 0 of any type (integer 0 or float +0.0).
                    Some(0) => Ok(()),
                    _ => Err(format!(
                        "unsupported level of detail in Op{op:?}: images have one level (0)"
                    )),
                }
            }
            Some(other) => Err(format!("unsupported image operands {other} of Op{op:?}")),
        }
    }

    /// Decodes `i` if it is one of this file's instructions (listed above); `false` if not.
    pub(super) fn images(
        &mut self,
        inst: &Instance,
        i: &dr::Instruction,
        res: Option<Slot>,
    ) -> Res<bool> {
        let op = i.class.opcode;
        if !matches!(
            op,
            Op::SampledImage
                | Op::ImageRead
                | Op::ImageWrite
                | Op::ImageSampleExplicitLod
                | Op::ImageQuerySize
                | Op::ImageQuerySizeLod
                | Op::ImageQueryFormat
                | Op::ImageQueryOrder
        ) {
            return Ok(false);
        }
        let d = || res.ok_or_else(|| format!("invalid SPIR-V: Op{op:?} without a result"));
        macro_rules! a {
            ($k:expr) => {
                self.slot(inst, op_id(i, $k)?)?
            };
        }
        let img_id = op_id(i, 0)?;
        let it = self.image_ty(img_id)?;
        let zero = self.zero()?;
        let mut x = ImageInst {
            op: ImageOp::Read,
            d: zero,
            img: a!(0),
            coord: zero,
            ncoord: 1,
            coord_int: None,
            texel: zero,
            kind: TexelKind::Int(32),
            n: 1,
            dim: it.dim,
            arrayed: it.arrayed,
            site: 0,
        };
        let coords = |dec: &Self, id: Word| -> Res<(u16, Option<u8>)> {
            let t = dec.ty_of(id)?;
            let n = dec.md.width(t)?;
            if usize::from(n) < it.coords() {
                return Err(format!(
                    "invalid SPIR-V: Op{op:?} with {n} coordinates for an image of {}",
                    it.coords()
                ));
            }
            Ok(match dec.md.scalar(t)? {
                Sc::Int(w) => (n, Some(w)),
                Sc::Float(crate::ops::Fk::S) => (n, None),
                other => return Err(format!("unsupported image coordinates of {other:?}")),
            })
        };
        match op {
            Op::SampledImage => {
                x.op = ImageOp::Sampled;
                x.coord = a!(1);
                x.d = d()?;
            }
            Op::ImageRead | Op::ImageSampleExplicitLod => {
                x.op = if op == Op::ImageRead {
                    self.level_zero_only(i, 2)?;
                    ImageOp::Read
                } else {
                    // Lod is required here.
                    if i.operands.len() < 3 {
                        return Err("invalid SPIR-V: OpImageSampleExplicitLod without Lod".into());
                    }
                    self.level_zero_only(i, 2)?;
                    ImageOp::Sample
                };
                let cid = op_id(i, 1)?;
                (x.ncoord, x.coord_int) = coords(self, cid)?;
                if op == Op::ImageRead && x.coord_int.is_none() {
                    return Err("unsupported float coordinates of OpImageRead".into());
                }
                x.coord = a!(1);
                let rt = i.result_type.ok_or("invalid SPIR-V: missing result type")?;
                (x.kind, x.n) = self.texel_kind(rt)?;
                x.d = d()?;
                x.site = self.site();
            }
            Op::ImageWrite => {
                self.level_zero_only(i, 3)?;
                x.op = ImageOp::Write;
                let cid = op_id(i, 1)?;
                (x.ncoord, x.coord_int) = coords(self, cid)?;
                if x.coord_int.is_none() {
                    return Err("unsupported float coordinates of OpImageWrite".into());
                }
                x.coord = a!(1);
                let tid = op_id(i, 2)?;
                (x.kind, x.n) = self.texel_kind(self.ty_of(tid)?)?;
                x.texel = a!(2);
                x.site = self.site();
                x.d = zero;
                x.n = 1;
                // The texel operand is read whole (4 components).
                if self.md.width(self.ty_of(tid)?)? != 4 {
                    return Err("unsupported OpImageWrite of a texel without 4 components".into());
                }
            }
            Op::ImageQuerySize
            | Op::ImageQuerySizeLod
            | Op::ImageQueryFormat
            | Op::ImageQueryOrder => {
                if op == Op::ImageQuerySizeLod {
                    let lod = op_id(i, 1)?;
                    if self.md.consts.get(&lod).and_then(|v| v.first()) != Some(&0) {
                        return Err("unsupported level of detail in OpImageQuerySizeLod: images have one level (0)".into());
                    }
                }
                x.op = match op {
                    Op::ImageQueryFormat => ImageOp::QueryFormat,
                    Op::ImageQueryOrder => ImageOp::QueryOrder,
                    _ => ImageOp::QuerySize,
                };
                let rt = i.result_type.ok_or("invalid SPIR-V: missing result type")?;
                let (kind, n) = self.texel_kind(rt)?;
                if !matches!(kind, TexelKind::Int(_)) {
                    return Err(format!(
                        "invalid SPIR-V: Op{op:?} with a non-integer result"
                    ));
                }
                (x.kind, x.n) = (kind, n);
                x.d = d()?;
            }
            _ => unreachable!("listed above"),
        }
        // Reads: 4 components (the texel); check the result has them.
        if matches!(x.op, ImageOp::Read | ImageOp::Sample) && x.n != 4 {
            return Err(format!(
                "unsupported Op{op:?} with a {}-component result",
                x.n
            ));
        }
        self.emit(Inst::Image(Box::new(x)))?;
        Ok(true)
    }
}
