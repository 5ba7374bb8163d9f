//! Module creation from native binaries (`ZE_MODULE_FORMAT_NATIVE`): arbitrary bytes, and
//! mutations of the driver's own native binaries of every kernel in `kernels/spv` — raw (the
//! checksum catches them) and re-sealed with a valid checksum, so that the decoder's length
//! fields, version, flags, constants and the SPIR-V behind them are reached. Every input must
//! be answered with a module or an error with a build log — never a panic, a hang, a crash or
//! a huge allocation — and a module built from a native binary must give back the same bytes.

#![no_main]

use std::sync::OnceLock;

use level_zero_sys::*;
use libfuzzer_sys::fuzz_target;

struct Driver {
    api: Api,
    ctx: ze_context_handle_t,
    dev: ze_device_handle_t,
    /// The driver's native binaries of the kernels of `kernels/spv`.
    seeds: Vec<Vec<u8>>,
}

// SAFETY: the handles are only identifiers; the driver's calls are thread-safe.
unsafe impl Send for Driver {}
// SAFETY: as above.
unsafe impl Sync for Driver {}

/// The checksum of the driver's native binaries (64-bit FNV-1a of everything before it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn desc(format: ze_module_format_t, bytes: &[u8]) -> ze_module_desc_t {
    ze_module_desc_t {
        format,
        inputSize: bytes.len(),
        pInputModule: bytes.as_ptr(),
        ..Default::default()
    }
}

fn native_of(api: &Api, m: ze_module_handle_t) -> Vec<u8> {
    let mut size = 0usize;
    // SAFETY: a live module; size query, then a buffer of that size.
    unsafe {
        api.zeModuleGetNativeBinary(m, &mut size, std::ptr::null_mut())
            .unwrap()
            .ok()
            .unwrap();
        let mut out = vec![0u8; size];
        api.zeModuleGetNativeBinary(m, &mut size, out.as_mut_ptr())
            .unwrap()
            .ok()
            .unwrap();
        out.truncate(size);
        out
    }
}

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
        // The seed corpus: native binaries of every kernel that builds, made at start.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../kernels/spv");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("kernels/spv")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "spv"))
            .collect();
        paths.sort();
        let mut seeds = Vec::new();
        for p in paths {
            let spirv = std::fs::read(&p).unwrap();
            let d = desc(ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV, &spirv);
            let mut m = std::ptr::null_mut();
            // SAFETY: live handles, a descriptor pointing at `spirv`, a valid output.
            let r =
                unsafe { api.zeModuleCreate(ctx, dev, &d, &mut m, std::ptr::null_mut()) }.unwrap();
            if r.is_success() {
                seeds.push(native_of(&api, m));
                // SAFETY: a live module without kernels.
                unsafe { api.zeModuleDestroy(m).unwrap().ok().unwrap() };
            }
        }
        assert!(!seeds.is_empty(), "no kernel of kernels/spv builds");
        Driver {
            api,
            ctx,
            dev,
            seeds,
        }
    })
}

/// Builds a module from `bytes` as a native binary and checks the answer.
fn build(d: &Driver, bytes: &[u8]) {
    let desc = desc(ze_module_format_t::ZE_MODULE_FORMAT_NATIVE, bytes);
    let (mut module, mut log) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: live handles, a descriptor pointing at `bytes`, valid outputs.
    let r = unsafe {
        d.api
            .zeModuleCreate(d.ctx, d.dev, &desc, &mut module, &mut log)
    }
    .unwrap();
    let empty = bytes.is_empty();
    assert!(
        r.is_success()
            || r == ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY
            || r == ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE
            || (empty && r == ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE),
        "{r}"
    );
    if !log.is_null() {
        let mut size = 0usize;
        // SAFETY: a live build log; size query, then a buffer of that size.
        unsafe {
            d.api
                .zeModuleBuildLogGetString(log, &mut size, std::ptr::null_mut())
                .unwrap()
                .ok()
                .unwrap();
            assert!(r.is_success() || size > 1, "a failed build must say why");
            let mut text = vec![0u8; size];
            d.api
                .zeModuleBuildLogGetString(log, &mut size, text.as_mut_ptr().cast())
                .unwrap()
                .ok()
                .unwrap();
            d.api.zeModuleBuildLogDestroy(log).unwrap().ok().unwrap();
        }
    } else {
        assert!(empty, "a build log was asked for: {r}");
    }
    if r.is_success() {
        // The encoding is canonical: the module gives back exactly what it was built from.
        assert!(
            native_of(&d.api, module) == bytes,
            "native binary round trip"
        );
        let mut count = 0u32;
        // SAFETY: a live module; names query, kernels created and destroyed, then the module.
        unsafe {
            d.api
                .zeModuleGetKernelNames(module, &mut count, std::ptr::null_mut())
                .unwrap()
                .ok()
                .unwrap();
            let mut names = vec![std::ptr::null(); count as usize];
            d.api
                .zeModuleGetKernelNames(module, &mut count, names.as_mut_ptr())
                .unwrap()
                .ok()
                .unwrap();
            for name in names {
                let kd = ze_kernel_desc_t {
                    pKernelName: name,
                    ..Default::default()
                };
                let mut k = std::ptr::null_mut();
                let r = d.api.zeKernelCreate(module, &kd, &mut k).unwrap();
                if r.is_success() {
                    let mut size = 0u32;
                    d.api
                        .zeKernelGetSourceAttributes(k, &mut size, std::ptr::null_mut())
                        .unwrap()
                        .ok()
                        .unwrap();
                    d.api.zeKernelDestroy(k).unwrap().ok().unwrap();
                }
            }
            d.api.zeModuleDestroy(module).unwrap().ok().unwrap();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let d = driver();
    let Some((&mode, rest)) = data.split_first() else {
        build(d, data);
        return;
    };
    match mode % 3 {
        // Arbitrary bytes.
        0 => build(d, rest),
        // A seed with byte edits (offset, xor) and a new length: raw, then re-sealed.
        _ => {
            let Some((&pick, edits)) = rest.split_first() else {
                return;
            };
            let seed = &d.seeds[pick as usize % d.seeds.len()];
            let mut body = seed[..seed.len() - 8].to_vec();
            let mut chunks = edits.chunks_exact(3);
            for e in &mut chunks {
                let at = usize::from(u16::from_le_bytes([e[0], e[1]]));
                // Offsets past the body append or cut, so lengths disagree with content.
                match at.checked_sub(body.len()) {
                    None => body[at] ^= e[2],
                    Some(0..=255) => body.push(e[2]),
                    Some(_) => body.truncate(at % body.len().max(1)),
                }
            }
            if mode % 3 == 1 {
                // Raw: the old checksum, which the edits (almost always) break.
                let mut bytes = body;
                bytes.extend_from_slice(&seed[seed.len() - 8..]);
                build(d, &bytes);
            } else {
                let sum = fnv1a(&body);
                body.extend(sum.to_le_bytes());
                build(d, &body);
            }
        }
    }
});
