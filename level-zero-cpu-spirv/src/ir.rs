//! The pre-decoded form a kernel runs from.
//!
//! A kernel's code is one control-flow graph: every function call is inlined at decode time
//! (OpenCL C has no recursion), so a call becomes a jump into a private copy of the callee
//! and its returns become jumps back. Blocks are numbered in a reverse post-order that
//! visits loop and selection merge blocks last, and the scheduler always runs the
//! lowest-numbered block that has work-items waiting, which keeps work-items converged.
//!
//! Registers are numbered in *components*: a value of `n` components (a scalar is 1, a
//! `float4` is 4, a struct is the number of its scalar leaves) occupies `n` consecutive
//! component slots. At run time slot `s` of lane `l` lives at `regs[s * lanes + l]`.

use crate::mem::{AtomicOp, Space};
use crate::ops::{BinOp, Fk, Reduce, TernOp, UnOp};

/// A component slot.
pub(crate) type Slot = u32;

/// Work-item built-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    GlobalId,
    LocalId,
    GroupId,
    NumGroups,
    LocalSize,
    EnqueuedLocalSize,
    GlobalSize,
    GlobalOffset,
    GlobalLinearId,
    LocalLinearId,
    WorkDim,
    SubgroupSize,
    SubgroupMaxSize,
    NumSubgroups,
    NumEnqueuedSubgroups,
    SubgroupId,
    SubgroupLocalId,
}

/// One pre-decoded instruction.
#[derive(Clone, Debug)]
pub(crate) enum Inst {
    Bin {
        op: BinOp,
        d: Slot,
        a: Slot,
        b: Slot,
        n: u16,
    },
    Un {
        op: UnOp,
        d: Slot,
        a: Slot,
        n: u16,
    },
    Tern {
        op: TernOp,
        d: Slot,
        a: Slot,
        b: Slot,
        c: Slot,
        n: u16,
    },
    /// OpSelect: `c` has `n` components, or one broadcast to all.
    Select {
        d: Slot,
        c: Slot,
        a: Slot,
        b: Slot,
        n: u16,
        scalar_cond: bool,
    },
    /// Copies `n` components.
    Copy {
        d: Slot,
        s: Slot,
        n: u16,
    },
    /// d = base + off + sum(sext(idx) * stride) over `Code::gep_terms[at..at+len]`.
    Gep {
        d: Slot,
        base: Slot,
        off: i64,
        at: u32,
        len: u16,
    },
    /// Loads `n` components of `size` bytes at `p + k*stride`.
    Load {
        d: Slot,
        p: Slot,
        size: u8,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
    },
    /// Stores `n` components.
    Store {
        p: Slot,
        v: Slot,
        size: u8,
        n: u16,
        stride: u16,
        space: Space,
        site: u32,
    },
    /// A scalar load from `base + off + sext(idx, w) * scale`: an access chain used only by
    /// this load, fused into it.
    LoadIdx {
        d: Slot,
        base: Slot,
        idx: Slot,
        w: u8,
        scale: i64,
        off: i64,
        size: u8,
        space: Space,
        site: u32,
    },
    /// A scalar store to `base + off + sext(idx, w) * scale` (fused access chain).
    StoreIdx {
        base: Slot,
        idx: Slot,
        w: u8,
        scale: i64,
        off: i64,
        v: Slot,
        size: u8,
        space: Space,
        site: u32,
    },
    /// Loads the scalar leaves of an aggregate (layout `Code::layouts[layout]`).
    LoadAgg {
        d: Slot,
        p: Slot,
        layout: u32,
        space: Space,
        site: u32,
    },
    /// Stores the scalar leaves of an aggregate.
    StoreAgg {
        p: Slot,
        v: Slot,
        layout: u32,
        space: Space,
        site: u32,
    },
    /// memcpy/memmove of `len` bytes (`len_slot` when not constant).
    CopyMem {
        dst: Slot,
        src: Slot,
        len: u64,
        len_slot: Option<Slot>,
        dspace: Space,
        sspace: Space,
        site: u32,
    },
    Atomic {
        op: AtomicOp,
        d: Slot,
        p: Slot,
        v: Slot,
        cmp: Slot,
        size: u8,
        space: Space,
        site: u32,
    },
    /// A built-in; `comp` selects one component of a 3-vector built-in (`n` is 1 then).
    Builtin {
        d: Slot,
        b: Builtin,
        n: u16,
        comp: Option<u8>,
    },
    ExtractDyn {
        d: Slot,
        v: Slot,
        idx: Slot,
        n: u16,
    },
    InsertDyn {
        d: Slot,
        v: Slot,
        x: Slot,
        idx: Slot,
        n: u16,
    },
    /// Reinterprets `nf` components of `fsize` bytes as `nt` components of `tsize` bytes.
    Bitcast {
        d: Slot,
        s: Slot,
        fsize: u8,
        nf: u16,
        tsize: u8,
        nt: u16,
    },
    Reduce {
        op: Reduce,
        k: Fk,
        d: Slot,
        a: Slot,
        b: Slot,
        n: u16,
    },
    Cross {
        k: Fk,
        d: Slot,
        a: Slot,
        b: Slot,
    },
    Normalize {
        k: Fk,
        d: Slot,
        a: Slot,
        n: u16,
    },
    /// OpenCL.std shuffle / shuffle2: `d[k] = (a ++ b)[mask[k] % (na + nb)]` (`nb` is 0 for
    /// shuffle).
    Shuffle {
        d: Slot,
        a: Slot,
        b: Slot,
        mask: Slot,
        na: u16,
        nb: u16,
        n: u16,
    },
    /// printf: `Code::printfs[call]`.
    Printf {
        d: Slot,
        call: u32,
    },
    /// OpGroupAsyncCopy, done at once by the first active lane (a work-group collective):
    /// `n` elements of `esize` bytes; the stride applies to the source when
    /// `dst_strided` is false, else to the destination. `d` (the event) is set to 0.
    AsyncCopy {
        d: Slot,
        dst: Slot,
        src: Slot,
        n: Slot,
        stride: Slot,
        esize: u32,
        dst_strided: bool,
        dspace: Space,
        sspace: Space,
        site: u32,
    },
    /// A memory fence (OpMemoryBarrier, OpGroupWaitEvents).
    Fence,
    /// An image instruction (`ImageBasic`, exec/images.rs).
    Image(Box<ImageInst>),
    /// A work-group or sub-group collective (`Groups`, `GroupUniformArithmeticKHR`,
    /// `GroupNonUniform*`, `SubgroupShuffleINTEL`): computed across the lanes of `act`.
    Group(Box<Collective>),
}

/// What an image instruction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageOp {
    /// `OpSampledImage`: `d` = the image (`img`) with the sampler (`coord`).
    Sampled,
    /// `OpImageRead`: the texel at integer coordinates.
    Read,
    /// `OpImageWrite`: `texel` to the texel at integer coordinates.
    Write,
    /// `OpImageSampleExplicitLod` (level 0): the sampled image `img` at `coord`.
    Sample,
    /// `OpImageQuerySize[Lod]`: width, height, depth or layers (`n` components).
    QuerySize,
    /// `OpImageQueryFormat`: the SPIR-V `ImageChannelDataType`.
    QueryFormat,
    /// `OpImageQueryOrder`: the SPIR-V `ImageChannelOrder`.
    QueryOrder,
}

/// The components of a texel a read gives or a write takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TexelKind {
    Float(Fk),
    /// Integers of this width (sign- or zero-extended from the channels by their type).
    Int(u8),
}

/// An image instruction (`Inst::Image`).
#[derive(Clone, Debug)]
pub(crate) struct ImageInst {
    pub(crate) op: ImageOp,
    pub(crate) d: Slot,
    /// The image, or the sampled image (`Sample`): a register holding the image argument's
    /// index (and, for a sampled image, the sampler's bits above bit 32).
    pub(crate) img: Slot,
    /// The coordinates (`ncoord` components, integers of `coord_int` bits or floats when
    /// `None`); the sampler for `Sampled`.
    pub(crate) coord: Slot,
    pub(crate) ncoord: u16,
    pub(crate) coord_int: Option<u8>,
    /// The texel a `Write` stores.
    pub(crate) texel: Slot,
    /// The texel's components (reads, samples, writes), or the query result's integers.
    pub(crate) kind: TexelKind,
    /// Components of the result (a texel: 4).
    pub(crate) n: u16,
    /// The image type's shape.
    pub(crate) dim: rspirv::spirv::Dim,
    pub(crate) arrayed: bool,
    pub(crate) site: u32,
}

/// Which work-items a collective spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupScope {
    Workgroup,
    Subgroup,
}

/// A collective instruction (`Inst::Group`): `d = kind(a, b, c)` over the lanes of each
/// group, `n` components each.
#[derive(Clone, Debug)]
pub(crate) struct Collective {
    pub(crate) kind: GroupKind,
    pub(crate) scope: GroupScope,
    /// Every work-item of the group must reach it (the `Groups`-capability and Intel
    /// sub-group instructions): the decoder made the lanes wait for each other before it,
    /// and the interpreter checks that none is missing. Otherwise (`GroupNonUniform*`) it
    /// spans the group's lanes that reach it together (the active ones).
    pub(crate) uniform: bool,
    pub(crate) d: Slot,
    pub(crate) a: Slot,
    pub(crate) b: Slot,
    pub(crate) c: Slot,
    /// Components of the value operand `a` (and of the result, except ballots).
    pub(crate) n: u16,
    /// Components of `b` where it is a local id (a work-group broadcast's 1 to 3).
    pub(crate) nb: u16,
    /// The SPIR-V opcode, for error messages.
    pub(crate) name: &'static str,
}

/// What a collective computes, for a lane of a group whose members (in order of sub-group
/// local id, or local linear id for a work-group) hold values `v`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GroupKind {
    /// `op` over every member (`id`: the identity of `op`).
    Reduce {
        op: crate::ops::BinOp,
        id: u64,
    },
    /// `op` over the members up to and including this one.
    InclusiveScan {
        op: crate::ops::BinOp,
        id: u64,
    },
    /// `op` over the members before this one (`id` for the first).
    ExclusiveScan {
        op: crate::ops::BinOp,
        id: u64,
    },
    /// `op` over the members of this one's cluster (`b`: the cluster size, a power of two).
    ClusteredReduce {
        op: crate::ops::BinOp,
        id: u64,
    },
    /// Whether `a` is true for every / any member.
    All,
    Any,
    /// Whether every member's `a` equals this one's (`eq`: the equality of `a`'s type).
    AllEqual {
        eq: crate::ops::BinOp,
    },
    /// `a` of the member whose id is `b` (a local id of `nb` components for a work-group).
    Broadcast,
    /// `a` of the first member.
    BroadcastFirst,
    /// Whether this is the first member.
    Elect,
    /// A 4 x 32-bit mask of the members whose `a` is true, by sub-group local id.
    Ballot,
    /// Bit (this member's id) of the mask `a`.
    InverseBallot,
    /// Bit `b` of the mask `a`.
    BallotBitExtract,
    /// Set bits of the mask `a` among the sub-group's ids: all of them, up to and including
    /// this member's, or before it.
    BallotBitCount(ScanKind),
    /// The lowest / highest set bit of the mask `a`.
    BallotFindLsb,
    BallotFindMsb,
    /// `a` of the member whose id is `b`, this id xor `b`, this id minus `b`, plus `b`.
    Shuffle,
    ShuffleXor,
    ShuffleUp,
    ShuffleDown,
    /// `intel_sub_group_shuffle_down(a, b, c)`: `a` of member id + `c` if below the
    /// sub-group size, else `b` of member id + `c` - size.
    IntelShuffleDown,
    /// `intel_sub_group_shuffle_up(a, b, c)`: `b` of member id - `c` if not negative, else
    /// `a` of member id - `c` + size.
    IntelShuffleUp,
}

/// The group operation of a ballot bit count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanKind {
    Reduce,
    Inclusive,
    Exclusive,
}

/// A printf call: the format string pointer and typed arguments.
#[derive(Clone, Debug)]
pub(crate) struct PrintfCall {
    pub(crate) fmt: Slot,
    pub(crate) args: Vec<PrintfArg>,
    pub(crate) site: u32,
}

/// One printf argument.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PrintfArg {
    pub(crate) slot: Slot,
    pub(crate) n: u16,
    pub(crate) kind: ArgScalar,
}

/// The scalar type of a value, as printf needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgScalar {
    Int(u8),
    Float(Fk),
    Ptr,
}

/// A register move on a control-flow edge (OpPhi), `n` components.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Move {
    pub(crate) d: Slot,
    pub(crate) s: Slot,
    pub(crate) n: u16,
}

/// A control-flow edge with the phi moves it performs.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub(crate) to: u32,
    pub(crate) moves: Vec<Move>,
}

/// How a block ends.
#[derive(Clone, Debug)]
pub(crate) enum Term {
    Jump(Edge),
    Branch {
        c: Slot,
        t: Edge,
        f: Edge,
    },
    Switch {
        sel: Slot,
        cases: Vec<(u64, Edge)>,
        default: Edge,
    },
    /// The work-item is done.
    Return,
    /// Wait for the whole work-group, then continue at the block.
    Barrier(u32),
    /// Wait until no lane of the work-group can run any more, then continue at the block
    /// (before the lanes at work-group barriers are released): a sub-group barrier, and the
    /// meeting point before a sub-group collective every work-item of the sub-group must
    /// reach.
    SubgroupSync(u32),
    /// OpUnreachable was reached.
    Trap,
    /// The work-item cannot go on (a call through a function pointer that is no function it
    /// can reach): the launch fails with `msg`, followed by the value of slot `value` of the
    /// first such work-item when there is one.
    Fail {
        msg: String,
        value: Option<Slot>,
    },
}

impl Term {
    /// The blocks it may continue at (a barrier's and a sub-group meeting's continuation
    /// included).
    pub(crate) fn successors(&self) -> Vec<u32> {
        match self {
            Term::Jump(e) => vec![e.to],
            Term::Branch { t, f, .. } => vec![t.to, f.to],
            Term::Switch { cases, default, .. } => cases
                .iter()
                .map(|(_, e)| e.to)
                .chain(std::iter::once(default.to))
                .collect(),
            Term::Barrier(n) | Term::SubgroupSync(n) => vec![*n],
            Term::Return | Term::Trap | Term::Fail { .. } => Vec::new(),
        }
    }
}

/// A basic block: `Code::insts[start..end]` then its terminator.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) term: Term,
}

/// Register initialisation when an executor starts (per launch and worker thread).
#[derive(Clone, Debug)]
pub(crate) enum Preset {
    /// Constant components (from `Code::consts[at..at+n]`).
    Const { d: Slot, at: u32, n: u16 },
    /// A private variable's address: lane's private base + offset.
    Private { d: Slot, offset: u64 },
    /// A static `__local` variable's address: local base + offset.
    Local { d: Slot, offset: u64 },
}

/// How one kernel parameter receives its argument.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    /// A value (scalar, vector, pointer): its bytes are split into the register's leaves.
    Value { d: Slot, layout: u32 },
    /// A `__local` pointer: the argument's size is allocated after the static locals.
    Local { d: Slot },
    /// An image: the register holds the parameter's index (its `ArgValue::Image` is found
    /// in the launch's arguments).
    Image { d: Slot },
    /// A sampler: the register holds the sampler's bits (`module::sampler_bits`).
    Sampler { d: Slot },
    /// A by-value struct: its bytes are copied into each work-item's private memory at
    /// `offset` before the group starts; the register holds that address.
    ByVal { d: Slot, offset: u64, size: u64 },
}

/// The memory layout of an aggregate value: (byte offset, byte size) per scalar leaf.
pub(crate) type Layout = Vec<(u32, u8)>;

/// A decoded kernel.
#[derive(Clone, Debug, Default)]
pub(crate) struct Code {
    pub(crate) insts: Vec<Inst>,
    pub(crate) blocks: Vec<Block>,
    /// Entry block.
    pub(crate) entry: u32,
    /// Component slots in use.
    pub(crate) slots: u32,
    pub(crate) consts: Vec<u64>,
    pub(crate) gep_terms: Vec<(Slot, i64, u8)>,
    pub(crate) layouts: Vec<Layout>,
    /// The bytes each layout of `layouts` spans (from offset 0 to the end of its last leaf),
    /// what an aggregate access checks once instead of per leaf.
    pub(crate) layout_spans: Vec<u64>,
    pub(crate) presets: Vec<Preset>,
    pub(crate) params: Vec<Param>,
    pub(crate) printfs: Vec<PrintfCall>,
    /// Private bytes per work-item.
    pub(crate) private_size: u64,
    /// Static `__local` bytes per work-group.
    pub(crate) local_size: u64,
    /// Memory access sites (for the sanitizer's per-site cache).
    pub(crate) sites: u32,
    /// Whether the kernel contains a barrier.
    pub(crate) has_barrier: bool,
    /// The slots some path from the entry reads before any write (an uninitialised
    /// variable, or an invalid module's use before definition): every work-group starts with
    /// them 0 in every lane, on both engines (`Exec::begin_group`), so that what SPIR-V leaves
    /// undefined is the same on both and from one work-group to the next.
    pub(crate) undefined_at_entry: Vec<Slot>,
    /// The sub-group size the kernel runs with (see `crate::SUBGROUP_SIZES`).
    pub(crate) subgroup_size: u32,
}
