//! The per-kernel cases' harness (see `level-zero-cpu-spirv/tests/common/portable.rs`) on the
//! safe `level-zero` API: modules built with `Module::from_spirv`, kernels set up with
//! `set_arg_buffer`/`set_arg`/`set_arg_local`/`set_group_size`, launched on an
//! `ImmediateCommandList` and synchronised; buffers are `DeviceBuffer<u8>`s (filled and read
//! with host copies) and `SharedBuffer<u8>`s (host access), alternately, each with guard bytes
//! around the part the kernel gets, checked after every launch (the driver's memory checks
//! see whole allocations, guards included).
//!
//! A test's programs and `Mem`s share one [`Stack`] — a [`TestDriver`] (its own embedded
//! driver instance, or the system loader's CPU driver), a context and a device — found
//! through a thread-local weak reference and created by the first of them. The stack goes
//! when the last of them is dropped, and its `TestDriver` goes last: its leak check then
//! sees everything the test created destroyed.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use bytemuck::Pod;
use level_zero::{
    BuildOptions, Context, Device, DeviceBuffer, Error, ImmediateCommandList, Kernel, Module,
    SharedBuffer,
};

use crate::common::TestDriver;

include!("../../level-zero-cpu-spirv/tests/common/portable.rs");

/// The engine's harness compares the interpreter and the JIT on every launch, except in
/// tests marked with this; the whole-stack harness runs each launch on the one engine the
/// driver is configured with (`LEVEL_ZERO_CPU_ENGINE`), so it has nothing to skip.
pub fn not_compared(_reason: &str) {}

/// As [`not_compared`]: the engine's harness runs such tests' launches on one program.
pub fn same_program(_reason: &str) {}

/// As [`not_compared`]: the engine's harness compares only the kind of fault of such tests.
pub fn faults_may_differ(_reason: &str) {}

/// Whether programs can be built for a chosen sub-group size: on an embedded driver
/// (configured per test), not on the system loader's (configured by the environment).
pub fn harness_sets_subgroup_size() -> bool {
    !crate::common::system_backend()
}

/// Bytes of guard before and after the part of every buffer a kernel gets.
pub const GUARD: usize = 256;
/// The value guard bytes hold.
pub const GUARD_BYTE: u8 = 0xA5;

/// What a test's programs and buffers live in. Fields drop in order: the driver last.
pub struct Stack {
    pub ctx: Context,
    pub device: Device,
    pub driver: TestDriver,
}

thread_local! {
    static CURRENT: RefCell<Weak<Stack>> = const { RefCell::new(Weak::new()) };
}

/// The current test's stack (created if no program or `Mem` holds one).
pub fn stack() -> Rc<Stack> {
    CURRENT.with(|current| {
        if let Some(s) = current.borrow().upgrade() {
            return s;
        }
        let driver = match subgroup_size_asked() {
            Some(size) => TestDriver::with(|c| c.subgroup_size = size).expect("embedded driver"),
            None => TestDriver::new(),
        };
        let s = Rc::new(Stack {
            ctx: driver.context(),
            device: driver.device(),
            driver,
        });
        *current.borrow_mut() = Rc::downgrade(&s);
        s
    })
}

/// `kernels/spv/<name>.<opt>.spv`.
pub fn spv(name: &str, opt: &str) -> Vec<u8> {
    let path = format!(
        "{}/kernels/spv/{name}.{opt}.spv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A module built for the stack's device.
pub struct Program {
    pub module: Module,
    stack: Rc<Stack>,
}

/// Builds `kernels/spv/<name>.<opt>.spv` with `Module::from_spirv`.
pub fn program(name: &str, opt: &str) -> Program {
    let stack = stack();
    let module = Module::from_spirv(
        &stack.ctx,
        &stack.device,
        &spv(name, opt),
        &BuildOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}.{opt} failed to build: {e}"));
    Program { module, stack }
}

enum Buffer {
    Device(DeviceBuffer<u8>),
    Shared(SharedBuffer<u8>),
}

/// The test's buffers and the immediate list that runs its launches.
pub struct Mem {
    /// Each buffer with the length of its kernel-visible part, which starts at `GUARD`.
    bufs: Vec<(Buffer, usize)>,
    list: ImmediateCommandList,
    stack: Rc<Stack>,
}

impl Default for Mem {
    fn default() -> Mem {
        let stack = stack();
        let list = ImmediateCommandList::compute(&stack.ctx, &stack.device)
            .expect("an immediate compute list");
        Mem {
            bufs: Vec::new(),
            list,
            stack,
        }
    }
}

impl Mem {
    /// Adds a buffer holding `data`; returns its index. Even indices are device memory,
    /// odd ones shared memory.
    pub fn add<T: Pod>(&mut self, data: &[T]) -> usize {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let mut host = vec![GUARD_BYTE; GUARD * 2 + bytes.len()];
        host[GUARD..GUARD + bytes.len()].copy_from_slice(bytes);
        let (ctx, dev) = (&self.stack.ctx, &self.stack.device);
        let buf = if self.bufs.len().is_multiple_of(2) {
            let b = DeviceBuffer::<u8>::new(ctx, dev, host.len()).expect("device buffer");
            self.list.copy_from_slice(&b, &host).expect("upload");
            Buffer::Device(b)
        } else {
            Buffer::Shared(SharedBuffer::from_slice(ctx, dev, &host).expect("shared buffer"))
        };
        self.bufs.push((buf, bytes.len()));
        self.bufs.len() - 1
    }

    /// Adds a zeroed buffer of `n` elements.
    pub fn zeros<T: Pod>(&mut self, n: usize) -> usize {
        self.add(&vec![T::zeroed(); n])
    }

    /// All of buffer `i`'s bytes, guards included.
    fn bytes(&mut self, i: usize) -> Vec<u8> {
        match &self.bufs[i].0 {
            Buffer::Device(b) => {
                let mut out = vec![0u8; b.len()];
                self.list.copy_to_slice(&mut out, b).expect("download");
                out
            }
            Buffer::Shared(b) => b.to_vec().expect("host access to a shared buffer"),
        }
    }

    /// Buffer `i`'s contents.
    pub fn get<T: Pod>(&mut self, i: usize) -> Vec<T> {
        let len = self.bufs[i].1;
        let n = len / size_of::<T>();
        let mut out = vec![T::zeroed(); n];
        bytemuck::cast_slice_mut::<T, u8>(&mut out)
            .copy_from_slice(&self.bytes(i)[GUARD..GUARD + n * size_of::<T>()]);
        out
    }

    /// Whether buffer `i`'s guard bytes are intact.
    pub fn guards_intact(&mut self, i: usize) -> bool {
        let len = self.bufs[i].1;
        let mut guards = [[0u8; GUARD]; 2];
        match &self.bufs[i].0 {
            Buffer::Device(b) => {
                let [before, after] = &mut guards;
                self.list
                    .copy_to_slice(before, &b.slice(..GUARD))
                    .expect("download");
                self.list
                    .copy_to_slice(after, &b.slice(GUARD + len..))
                    .expect("download");
            }
            Buffer::Shared(b) => {
                let s = b.as_slice().expect("host access to a shared buffer");
                guards[0].copy_from_slice(&s[..GUARD]);
                guards[1].copy_from_slice(&s[GUARD + len..]);
            }
        }
        guards.as_flattened().iter().all(|&x| x == GUARD_BYTE)
    }

    /// Creates `kernel` of `p`, sets its arguments, group size and global offset, launches it
    /// over `group_count` groups and waits for it. The printf output is not captured (the
    /// driver prints it): the text is always empty.
    pub fn launch(
        &mut self,
        p: &Program,
        kernel: &str,
        args: &[A],
        group_size: [u32; 3],
        group_count: [u32; 3],
        global_offset: [u32; 3],
    ) -> Result<String, Error> {
        assert!(
            Rc::ptr_eq(&p.stack, &self.stack),
            "the program and the buffers belong to different tests' stacks"
        );
        let mut k = p.module.kernel(kernel)?;
        for (i, a) in args.iter().enumerate() {
            let i = i as u32;
            match a {
                A::Buf(b) => self.set_buffer(&mut k, i, *b, 0)?,
                A::BufAt(b, off) => self.set_buffer(&mut k, i, *b, *off as usize)?,
                A::Val(v) => set_value(&mut k, i, v)?,
                A::Local(n) => k.set_arg_local(i, *n)?,
            }
        }
        k.set_group_size(group_size)?;
        if global_offset != [0; 3] {
            k.set_global_offset(global_offset)?;
        }
        // The kernel's pointer arguments are this `Mem`'s buffers (kept alive by the list until
        // the synchronisation below), sized by each case for its grid; the same cases run on
        // the engine harness, whose checks stop any access outside them, and the CPU driver
        // checks every access too. Nothing else runs on these buffers meanwhile.
        // SAFETY: as just said.
        unsafe { self.list.launch(&k, group_count)? };
        self.list.synchronize()?;
        // The driver checks accesses per allocation, and the guards are part of each
        // buffer's allocation: check them here (the engine harness keeps them outside).
        for i in 0..self.bufs.len() {
            assert!(
                self.guards_intact(i),
                "`{kernel}` wrote into the guard bytes around buffer {i}"
            );
        }
        Ok(String::new())
    }

    /// Sets argument `i` of `k` to buffer `b`'s kernel-visible part, from byte `offset`.
    fn set_buffer(&self, k: &mut Kernel, i: u32, b: usize, offset: usize) -> Result<(), Error> {
        let (buf, len) = &self.bufs[b];
        let range = GUARD + offset.min(*len)..GUARD + len;
        match buf {
            Buffer::Device(d) => k.set_arg_buffer(i, &d.slice(range)),
            Buffer::Shared(s) => k.set_arg_buffer(i, &s.slice(range)),
        }
    }

    /// A 1-D launch of `n` work-items in groups of `g`.
    pub fn run1(
        &mut self,
        p: &Program,
        kernel: &str,
        args: &[A],
        n: u32,
        g: u32,
    ) -> Result<String, Error> {
        assert_eq!(n % g, 0);
        self.launch(p, kernel, args, [g, 1, 1], [n / g, 1, 1], [0; 3])
    }
}

/// Sets a by-value argument from its bytes (`Kernel::set_arg` takes a `Pod` value: a byte
/// array of the same size).
fn set_value(k: &mut Kernel, i: u32, v: &[u8]) -> Result<(), Error> {
    macro_rules! sized {
        ($($n:literal)*) => {
            match v.len() {
                $($n => k.set_arg(i, &<[u8; $n]>::try_from(v).expect("length matched")),)*
                n => panic!("the harness passes no {n}-byte values; add the size here"),
            }
        };
    }
    sized!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 20 24 28 32 48 64)
}
