//! Module creation from arbitrary bytes: the CPU driver's SPIR-V parser, checker and decoder
//! must answer every input with a module or a build log — never a panic, a hang or a crash —
//! both in the engine and through the driver's `zeModuleCreate` (build log included); and
//! the JIT must compile every kernel it takes.

#![no_main]

use std::sync::OnceLock;

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
    // The engine directly.
    let built = level_zero_cpu_spirv::Program::build(data, &Default::default());
    if let Err(e) = &built {
        assert!(!e.log.is_empty(), "a failed build must say why");
    }
    // The JIT compiles every kernel it takes; the only reason it may give for one it does
    // not is that the kernel's work-items must run in lockstep (never a compiler failure).
    if let Ok(p) = &built {
        for k in p.kernels() {
            if let Some(e) = p.kernel_engine(&k.name) {
                if let Some(why) = e.fallback {
                    assert!(why.contains("lockstep"), "kernel `{}`: {why}", k.name);
                }
            }
        }
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
