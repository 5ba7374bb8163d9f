//! Module creation from arbitrary bytes: the CPU driver's SPIR-V parser, checker and decoder
//! must answer every input with a module or a build log — never a panic, a hang or a crash —
//! both in the engine and through the driver's `zeModuleCreate` (build log included); the JIT
//! must compile every kernel it takes; and every kernel that provably ends
//! (`Program::kernel_terminates`) runs on both engines with the same result (see
//! [`launch_all`]).

#![no_main]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use level_zero_cpu_spirv::{
    ArgKind, ArgValue, Engine, ExecError, GlobalVariable, KernelInfo, Launch, MemoryMap, Program,
};
use level_zero_sys::*;
use libfuzzer_sys::fuzz_target;

struct Driver {
    api: Api,
    ctx: ze_context_handle_t,
    dev: ze_device_handle_t,
}

// SAFETY: the handles are only identifiers; the driver's calls are thread-safe.
unsafe impl Send for Driver {}
// SAFETY: as above.
unsafe impl Sync for Driver {}

fn driver() -> &'static Driver {
    static D: OnceLock<Driver> = OnceLock::new();
    D.get_or_init(|| {
        // SAFETY: the CPU driver's getters honour the DDI contract.
        let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        let mut config = level_zero_cpu::Config::default();
        config.devices = 1;
        let drv = level_zero_cpu::new_driver(config);
        let (mut n, mut dev) = (1u32, std::ptr::null_mut());
        let mut ctx = std::ptr::null_mut();
        // SAFETY: a live driver handle and valid outputs.
        unsafe {
            api.zeDeviceGet(drv, &mut n, &mut dev)
                .unwrap()
                .ok()
                .unwrap();
            api.zeContextCreate(drv, &ze_context_desc_t::default(), &mut ctx)
                .unwrap()
                .ok()
                .unwrap();
        }
        Driver { api, ctx, dev }
    })
}

fuzz_target!(|data: &[u8]| {
    count(Count::Inputs, 1);
    // The engine directly.
    let built = level_zero_cpu_spirv::Program::build(data, &Default::default());
    if let Err(e) = &built {
        assert!(!e.log.is_empty(), "a failed build must say why");
    }
    // The JIT compiles every kernel it takes; the only reason it may give for one it does
    // not is that the kernel's work-items must run in lockstep (never a compiler failure).
    if let Ok(p) = &built {
        for k in p.kernels() {
            if let Some(e) = p.kernel_engine(&k.name)
                && let Some(why) = e.fallback
            {
                assert!(why.contains("lockstep"), "kernel `{}`: {why}", k.name);
            }
        }
        launch_all(p, shows_arena_addresses(data));
    }
    // Through the driver: zeModuleCreate with a build log, then destroy everything.
    let d = driver();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: data.len(),
        pInputModule: data.as_ptr(),
        ..Default::default()
    };
    let (mut module, mut log) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: live handles, a descriptor pointing at `data`, valid outputs.
    let r = unsafe {
        d.api
            .zeModuleCreate(d.ctx, d.dev, &desc, &mut module, &mut log)
    }
    .unwrap();
    assert_eq!(r.is_success(), built.is_ok() && !data.is_empty(), "{r}");
    if !log.is_null() {
        let mut size = 0usize;
        // SAFETY: a live build log; size query, then a buffer of that size.
        unsafe {
            d.api
                .zeModuleBuildLogGetString(log, &mut size, std::ptr::null_mut())
                .unwrap()
                .ok()
                .unwrap();
            let mut text = vec![0u8; size];
            d.api
                .zeModuleBuildLogGetString(log, &mut size, text.as_mut_ptr().cast())
                .unwrap()
                .ok()
                .unwrap();
            d.api.zeModuleBuildLogDestroy(log).unwrap().ok().unwrap();
        }
    }
    if r.is_success() {
        let mut count = 0u32;
        // SAFETY: a live module; count query then destroy.
        unsafe {
            d.api
                .zeModuleGetKernelNames(module, &mut count, std::ptr::null_mut())
                .unwrap()
                .ok()
                .unwrap();
            d.api.zeModuleDestroy(module).unwrap().ok().unwrap();
        }
    }
});

/// Bytes of each buffer a pointer argument gets, and of the guards around it (outside the
/// memory map: no kernel may touch them).
const BUFFER: usize = 256;
const GUARD: usize = 64;
const GUARD_BYTE: u8 = 0xa5;
/// Bytes of local memory a `__local` pointer argument gets.
const LOCAL: usize = 256;
/// What a kernel may need for one launch to stay quick and small (the fuzzer runs with
/// `-rss_limit_mb=4096 -timeout=10`): kernels or programs needing more are not launched.
const MAX_PRIVATE: u32 = 1 << 16;
const MAX_LOCAL: u32 = 1 << 20;
const MAX_GLOBALS: usize = 1 << 20;
const MAX_VALUE: usize = 1 << 12;
const MAX_LANES: u32 = 16;

/// With `MODULE_CREATE_STATS=1`, counts printed every 1000 inputs: inputs, those that
/// built, their kernels, the kernels launched ([`launchable`] ones that provably end), and
/// the launches (each on both engines).
#[derive(Clone, Copy)]
enum Count {
    Inputs,
    Built,
    Kernels,
    Launched,
    Launches,
}

static COUNTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

fn count(c: Count, n: usize) {
    static START: OnceLock<Option<std::time::Instant>> = OnceLock::new();
    let Some(start) = START
        .get_or_init(|| std::env::var_os("MODULE_CREATE_STATS").map(|_| std::time::Instant::now()))
    else {
        return;
    };
    let now = COUNTS[c as usize].fetch_add(n as u64, Ordering::Relaxed) + n as u64;
    if matches!(c, Count::Inputs) && now.is_multiple_of(1000) {
        let s = start.elapsed().as_secs_f64();
        let [i, b, k, l, n] = COUNTS.each_ref().map(|c| c.load(Ordering::Relaxed));
        eprintln!(
            "module_create: {s:.0} s: {i} inputs, {b} built, {k} kernels, {l} launched, {n} launches on both engines ({:.1} kernels/s, {:.1} launches/s)",
            l as f64 / s,
            n as f64 / s
        );
    }
}

/// The launch's buffers, each between two guards, at addresses that stay the same for both
/// engines (their contents are put back between the two runs).
struct Buffers(Vec<Vec<u64>>);

impl Buffers {
    fn new(n: usize) -> Buffers {
        Buffers(
            (0..n)
                .map(|k| {
                    let mut v = vec![0u64; (2 * GUARD + BUFFER) / 8];
                    let b: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
                    b.fill(GUARD_BYTE);
                    // Small integers (indices that stay inside the buffers), a little
                    // different per buffer.
                    for (j, w) in b[GUARD..GUARD + BUFFER].chunks_mut(4).enumerate() {
                        w.copy_from_slice(&(((j + k) % 7) as u32).to_le_bytes());
                    }
                    v
                })
                .collect(),
        )
    }

    fn addr(&self, k: usize) -> u64 {
        self.0[k].as_ptr() as u64 + GUARD as u64
    }

    fn snapshot(&self) -> Vec<Vec<u64>> {
        self.0.clone()
    }

    fn restore(&mut self, s: &[Vec<u64>]) {
        for (v, s) in self.0.iter_mut().zip(s) {
            // In place: the arguments hold these addresses.
            v.copy_from_slice(s);
        }
    }

    fn map(&self) -> Map {
        Map((0..self.0.len())
            .map(|k| (self.addr(k), BUFFER as u64))
            .collect())
    }

    /// Where an address is, as both engines must agree on it: a place in a buffer (guards
    /// included) or a program-scope variable, or "elsewhere" (each engine has its own
    /// local and private arenas).
    fn place(&self, a: u64, globals: &[GlobalVariable]) -> String {
        for (k, v) in self.0.iter().enumerate() {
            let lo = v.as_ptr() as u64;
            if a >= lo && a < lo + 8 * v.len() as u64 {
                return format!("buffer {k} {:+}", a as i64 - (lo + GUARD as u64) as i64);
            }
        }
        for g in globals {
            if a >= g.address && a - g.address < g.size as u64 {
                return format!("`{}` + {}", g.name, a - g.address);
            }
        }
        "elsewhere".into()
    }
}

struct Map(Vec<(u64, u64)>);

// SAFETY: the ranges are the buffers of a `Buffers`, which is neither dropped nor resized
// while a launch that uses the map runs.
unsafe impl MemoryMap for Map {
    fn find(&self, address: u64) -> Option<(u64, u64)> {
        self.0
            .iter()
            .copied()
            .find(|&(b, s)| address >= b && address - b < s)
    }
}

/// The bytes of the program's named program-scope variables.
fn read_globals(globals: &[GlobalVariable]) -> Vec<Vec<u8>> {
    globals
        .iter()
        .map(|g| {
            let mut v = vec![0u8; g.size];
            // SAFETY: a program-scope variable's storage is owned by the program, at
            // `address` for `size` bytes, for the program's lifetime (`GlobalVariable`); no
            // launch runs now, and `v` is a distinct allocation of `size` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(g.address as *const u8, v.as_mut_ptr(), g.size)
            };
            v
        })
        .collect()
}

fn write_globals(globals: &[GlobalVariable], bytes: &[Vec<u8>]) {
    for (g, b) in globals.iter().zip(bytes) {
        assert_eq!(g.size, b.len());
        // SAFETY: as in `read_globals`: the program's own storage, `size` bytes at
        // `address`, no launch running; `b` has `size` bytes and is a distinct allocation.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), g.address as *mut u8, g.size) };
    }
}

/// Whether `k` is launched at all: no images or samplers (they need descriptions this target
/// does not make up), small arguments and memory.
fn launchable(k: &KernelInfo) -> bool {
    k.args.iter().all(|a| match a.kind {
        ArgKind::Image | ArgKind::Sampler => false,
        ArgKind::Value => a.size <= MAX_VALUE,
        _ => true,
    }) && k.private_memory_size <= MAX_PRIVATE
        && k.local_memory_size <= MAX_LOCAL
        && k.required_group_size
            .is_none_or(|r| r.iter().product::<u32>() <= MAX_LANES)
}

/// Launches every kernel of `p` that provably ends (`Program::kernel_terminates`, asked
/// before each launch: a printf's format is read from the program's variables as they are)
/// on the interpreter and on the JIT (or its fallback, the interpreter again), from the same
/// buffers at the same addresses and the same program-scope variables, and checks that both
/// end the same way. Each kernel runs twice:
///
/// - three work-groups of one work-item: the work-items run one after another in the same
///   order on both engines, so everything must be the same: the result, a fault's
///   work-item, address (as a place in the buffers) and size, every buffer (guards
///   included), every named program-scope variable, the printf output;
/// - two work-groups of four work-items (or the kernel's `reqd_work_group_size`): the
///   interpreter runs a group's work-items together, block by block, and the JIT one after
///   another up to a barrier. Both orders are valid, so which work-item stops a launch that
///   fails may differ (both must fail, alike unless a work-item stopped it), and work-items
///   that race (a plain `counter += 1`, the values atomics return) leave different memory:
///   memory that differs is taken for a race, and the printf output is compared when the
///   buffers and variables are the same.
///
/// Value arguments are small integers, pointer arguments buffers of small integers.
fn launch_all(p: &Program, addresses_shown: bool) {
    count(Count::Built, 1);
    count(Count::Kernels, p.kernels().len());
    let kernels: Vec<&KernelInfo> = p.kernels().iter().filter(|k| launchable(k)).collect();
    if kernels.is_empty() || p.globals().iter().map(|g| g.size).sum::<usize>() > MAX_GLOBALS {
        return;
    }
    for k in kernels {
        if p.kernel_terminates(&k.name) == Some(true) {
            count(Count::Launched, 1);
        }
        let single = [1, 1, 1];
        let group = k.required_group_size.unwrap_or([4, 1, 1]);
        if k.required_group_size.is_none_or(|r| r == single) {
            launch_both(p, k, single, [3, 1, 1], true, addresses_shown);
        }
        launch_both(p, k, group, [2, 1, 1], false, addresses_shown);
    }
}

/// One launch of `k` on both engines (see [`launch_all`]); `exact`: everything must agree.
fn launch_both(
    p: &Program,
    k: &KernelInfo,
    group_size: [u32; 3],
    group_count: [u32; 3],
    exact: bool,
    addresses_shown: bool,
) {
    if p.kernel_terminates(&k.name) != Some(true) {
        return;
    }
    let n_bufs = k
        .args
        .iter()
        .filter(|a| matches!(a.kind, ArgKind::GlobalPointer | ArgKind::ConstantPointer))
        .count();
    let mut bufs = Buffers::new(n_bufs);
    let mut next = 0;
    let bytes: Vec<Vec<u8>> = k
        .args
        .iter()
        .map(|a| match a.kind {
            ArgKind::GlobalPointer | ArgKind::ConstantPointer => {
                next += 1;
                bufs.addr(next - 1).to_le_bytes().to_vec()
            }
            ArgKind::Value => (0..a.size)
                .map(|j| if j % 4 == 0 { 5 } else { 0 })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let values: Vec<ArgValue<'_>> = k
        .args
        .iter()
        .zip(&bytes)
        .map(|(a, b)| match a.kind {
            ArgKind::LocalPointer => ArgValue::Local(LOCAL),
            _ => ArgValue::Bytes(b),
        })
        .collect();
    let launch = Launch {
        kernel: &k.name,
        args: &values,
        group_size,
        group_count,
        global_offset: [0; 3],
    };
    let globals = p.globals();
    let start = bufs.snapshot();
    let start_globals = read_globals(globals);
    let mut out_i = Vec::new();
    let r_i = p.launch_on(Engine::Interpreter, &launch, &bufs.map(), &mut out_i);
    let after_i = bufs.snapshot();
    let globals_i = read_globals(globals);
    bufs.restore(&start);
    write_globals(globals, &start_globals);
    let mut out_j = Vec::new();
    let r_j = p.launch_on(Engine::Jit, &launch, &bufs.map(), &mut out_j);
    count(Count::Launches, 1);
    let what = format!(
        "kernel `{}` ({group_count:?} groups of {group_size:?}, on {:?})",
        k.name,
        p.kernel_engine(&k.name).map(|e| e.engine)
    );
    // The sanitizer keeps every access inside the buffers: the guards never change.
    for (k, v) in after_i.iter().chain(&bufs.0).enumerate() {
        let b: &[u8] = bytemuck::cast_slice(v);
        assert!(
            b[..GUARD]
                .iter()
                .chain(&b[GUARD + BUFFER..])
                .all(|&x| x == GUARD_BYTE),
            "{what}: a guard of buffer {} changed ({})",
            k % n_bufs.max(1),
            if k < n_bufs { "interpreter" } else { "JIT" }
        );
    }
    for (r, engine) in [(&r_i, "interpreter"), (&r_j, "JIT")] {
        if let Err(e) = r {
            // The engines' internal errors say so.
            assert!(!e.to_string().contains("(a bug)"), "{what}: {engine}: {e}");
        }
    }
    if addresses_shown {
        // Each launch has private and local memory of its own, at addresses of its own:
        // what the kernel computes from them differs from launch to launch, on one engine
        // as between the two.
        return;
    }
    let comparable = |r: &Result<(), ExecError>| -> Result<(), String> {
        let Err(e) = r else { return Ok(()) };
        Err(match e {
            ExecError::OutOfBounds { .. } | ExecError::ReadOnly { .. } | ExecError::Failed(_)
                if !exact =>
            {
                "a work-item stopped the launch".to_string()
            }
            ExecError::OutOfBounds {
                kernel,
                address,
                size,
                write,
                global_id,
            } => format!(
                "{kernel}: {global_id:?} {size} bytes at {}, write {write}",
                bufs.place(*address, globals)
            ),
            ExecError::ReadOnly {
                kernel,
                address,
                size,
                global_id,
            } => format!(
                "{kernel}: {global_id:?} {size} bytes at {} (read-only)",
                bufs.place(*address, globals)
            ),
            e => e.to_string(),
        })
    };
    assert_eq!(
        comparable(&r_i),
        comparable(&r_j),
        "{what}: the interpreter and the JIT disagree on the result ({r_i:?} vs {r_j:?})"
    );
    if r_i.is_err() || r_j.is_err() {
        return;
    }
    let globals_j = read_globals(globals);
    let buffer_diff = after_i
        .iter()
        .zip(&bufs.0)
        .enumerate()
        .find(|(_, (a, b))| a != b);
    let global_diff = globals
        .iter()
        .zip(globals_i.iter().zip(&globals_j))
        .find(|(_, (a, b))| a != b);
    if !exact && (buffer_diff.is_some() || global_diff.is_some()) {
        // Work-items that race (on purpose or not): both orders are valid.
        return;
    }
    if let Some((k, (a, b))) = buffer_diff {
        let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
        panic!(
            "{what}: buffer {k} differs from byte {}: interpreter {:#018x}, JIT {:#018x}",
            8 * at as i64 - GUARD as i64,
            a[at],
            b[at]
        );
    }
    if let Some((g, (a, b))) = global_diff {
        let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
        panic!(
            "{what}: program-scope variable `{}` differs from byte {at}: interpreter {:#04x}, JIT {:#04x}",
            g.name, a[at], b[at]
        );
    }
    // With several work-items per group, the output is compared only when the memory is the
    // same (a race that changes only what is printed would be reported here).
    assert_eq!(
        String::from_utf8_lossy(&out_i),
        String::from_utf8_lossy(&out_j),
        "{what}: printf output differs between the interpreter and the JIT"
    );
}

/// Whether the module may make the address of private or local memory visible (to a buffer,
/// a program-scope variable or printf), so that two launches, on one engine or on the two,
/// may end differently (each launch's arenas are its own allocations): a pointer that may
/// point there (`Function`, `Workgroup`, `Private` or `Generic`) converted to an integer
/// (`OpConvertPtrToU`, `OpBitcast` to a non-pointer), stored into memory that may be global
/// (`CrossWorkgroup` or `Generic`), passed to `printf` (`%p`), or memory holding such
/// pointers reinterpreted through a pointer to something else. Module-wide: a kernel the
/// others call into may do it. Pointers kept in private memory and read back as pointers
/// are not counted (as they are at `-O0`: the comparison would lose those kernels).
fn shows_arena_addresses(data: &[u8]) -> bool {
    use rspirv::dr::Operand;
    use rspirv::spirv::{Op, StorageClass as S};
    use std::collections::HashMap;
    let Ok(m) = rspirv::dr::load_bytes(data) else {
        return true;
    };
    // Pointer types: id -> storage class; types holding pointers of an arena's class.
    let mut ptr_class: HashMap<u32, S> = HashMap::new();
    let mut pointee: HashMap<u32, u32> = HashMap::new();
    let mut holds_arena_ptr: HashMap<u32, bool> = HashMap::new();
    let arena = |c: S| !matches!(c, S::CrossWorkgroup | S::UniformConstant);
    let mut type_of: HashMap<u32, u32> = HashMap::new();
    for i in &m.types_global_values {
        let Some(r) = i.result_id else { continue };
        let ids: Vec<u32> = i.operands.iter().filter_map(|o| o.id_ref_any()).collect();
        match (i.class.opcode, i.operands.first()) {
            (Op::TypePointer, Some(&Operand::StorageClass(c))) => {
                ptr_class.insert(r, c);
                if let Some(&t) = ids.first() {
                    pointee.insert(r, t);
                }
                holds_arena_ptr.insert(r, arena(c));
            }
            // A pointer type declared later (a struct pointing to its own type): counted.
            (Op::TypeForwardPointer, _) => {
                if let Some(&t) = ids.first() {
                    holds_arena_ptr.insert(t, true);
                }
            }
            (Op::TypeVector | Op::TypeArray | Op::TypeStruct, _) => {
                let h = ids.iter().any(|t| holds_arena_ptr.get(t) == Some(&true));
                holds_arena_ptr.insert(r, h);
            }
            _ => {}
        }
        if let Some(t) = i.result_type {
            type_of.insert(r, t);
        }
    }
    let insts: Vec<&rspirv::dr::Instruction> = m
        .functions
        .iter()
        .flat_map(|f| {
            f.parameters
                .iter()
                .chain(f.blocks.iter().flat_map(|b| b.instructions.iter()))
        })
        .collect();
    for i in &insts {
        if let (Some(r), Some(t)) = (i.result_id, i.result_type) {
            type_of.insert(r, t);
        }
    }
    let ty = |id: u32| type_of.get(&id).copied();
    let arena_ptr = |id: u32| ty(id).is_some_and(|t| holds_arena_ptr.get(&t) == Some(&true));
    let id_at =
        |i: &rspirv::dr::Instruction, k: usize| i.operands.get(k).and_then(|o| o.id_ref_any());
    insts.iter().any(|i| match i.class.opcode {
        Op::ConvertPtrToU => id_at(i, 0).is_some_and(arena_ptr),
        Op::Bitcast => {
            let from = id_at(i, 0).and_then(ty);
            let holds = |p: Option<u32>| {
                p.and_then(|p| pointee.get(&p))
                    .is_some_and(|t| holds_arena_ptr.get(t) == Some(&true))
            };
            // An arena address as a number, or memory holding arena addresses read as
            // something else than pointers.
            (id_at(i, 0).is_some_and(arena_ptr)
                && i.result_type.is_some_and(|t| !ptr_class.contains_key(&t)))
                || (holds(from) && !holds(i.result_type))
        }
        Op::Store => {
            let global_dest = id_at(i, 0)
                .and_then(ty)
                .and_then(|t| ptr_class.get(&t).copied())
                .is_none_or(|c| matches!(c, S::CrossWorkgroup | S::Generic));
            global_dest && id_at(i, 1).is_some_and(arena_ptr)
        }
        Op::ExtInst => {
            // printf (OpenCL.std 184): any argument after the format.
            matches!(
                i.operands.get(1),
                Some(&Operand::LiteralExtInstInteger(184))
            ) && i
                .operands
                .iter()
                .skip(3)
                .filter_map(|o| o.id_ref_any())
                .any(arena_ptr)
        }
        _ => false,
    })
}
