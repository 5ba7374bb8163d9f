//! Kernel argument setting (and what follows it) with arbitrary input, through the CPU
//! driver's C ABI: argument indices, sizes and values (including wild pointers and pointers
//! into and around real buffers), group sizes, suggestions and launches. The driver must
//! answer with result codes — never a panic, a crash, or a write outside the buffers a kernel
//! was given (AddressSanitizer watches the process).

#![no_main]

use std::sync::{Mutex, OnceLock};

use level_zero_sys::*;
use libfuzzer_sys::fuzz_target;

const KERNELS: &[(&str, &str)] = &[
    ("vector_add", "vector_add"),
    ("saxpy", "saxpy"),
    ("empty_args", "empty_args"),
    ("structs", "structs"),
    ("out_of_bounds", "write_past_end"),
    ("out_of_bounds", "read_past_end"),
    ("out_of_bounds", "local_past_end"),
];
const BUFFERS: usize = 3;
const BUFFER_BYTES: usize = 1024;

struct State {
    api: Api,
    list: ze_command_list_handle_t,
    kernels: Vec<ze_kernel_handle_t>,
    buffers: Vec<*mut std::ffi::c_void>,
}

// SAFETY: the handles and pointers are only identifiers; access is serialised by the mutex.
unsafe impl Send for State {}

fn spv(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../kernels/spv/{name}.O2.spv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("committed SPIR-V")
}

macro_rules! ok {
    ($e:expr) => {
        // SAFETY: set-up calls with live handles and valid outputs.
        assert!(unsafe { $e }.unwrap().is_success())
    };
}

fn state() -> &'static Mutex<State> {
    static S: OnceLock<Mutex<State>> = OnceLock::new();
    S.get_or_init(|| {
        // SAFETY: the CPU driver's getters honour the DDI contract.
        let (api, _) = unsafe { Api::from_ddi(&level_zero_cpu::ddi_getters()) };
        let mut config = level_zero_cpu::Config::default();
        config.devices = 1;
        let drv = level_zero_cpu::new_driver(config);
        let (mut n, mut dev, mut ctx, mut list) = (
            1u32,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ok!(api.zeDeviceGet(drv, &mut n, &mut dev));
        ok!(api.zeContextCreate(drv, &ze_context_desc_t::default(), &mut ctx));
        ok!(api.zeCommandListCreateImmediate(
            ctx,
            dev,
            &ze_command_queue_desc_t::default(),
            &mut list
        ));
        let mut kernels = Vec::new();
        for (module, kernel) in KERNELS {
            let code = spv(module);
            let desc = ze_module_desc_t {
                format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
                inputSize: code.len(),
                pInputModule: code.as_ptr(),
                ..Default::default()
            };
            let mut m = std::ptr::null_mut();
            ok!(api.zeModuleCreate(ctx, dev, &desc, &mut m, std::ptr::null_mut()));
            let name = std::ffi::CString::new(*kernel).unwrap();
            let kdesc = ze_kernel_desc_t {
                pKernelName: name.as_ptr(),
                ..Default::default()
            };
            let mut k = std::ptr::null_mut();
            ok!(api.zeKernelCreate(m, &kdesc, &mut k));
            kernels.push(k);
        }
        let mut buffers = Vec::new();
        for _ in 0..BUFFERS {
            let mut p = std::ptr::null_mut();
            ok!(api.zeMemAllocDevice(
                ctx,
                &ze_device_mem_alloc_desc_t::default(),
                BUFFER_BYTES,
                64,
                dev,
                &mut p
            ));
            buffers.push(p);
        }
        Mutex::new(State {
            api,
            list,
            kernels,
            buffers,
        })
    })
}

/// Reads the fuzz input as a stream of small numbers.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
}

fuzz_target!(|data: &[u8]| {
    let s = state().lock().unwrap_or_else(|p| p.into_inner());
    let api = &s.api;
    let mut input = Input(data);
    while let Some(op) = input.byte() {
        let Some(k) = input
            .byte()
            .map(|b| s.kernels[b as usize % s.kernels.len()])
        else {
            break;
        };
        match op % 6 {
            // An argument value of any index and size, from the input (or null).
            0 => {
                let (Some(index), Some(size)) = (input.byte(), input.byte()) else {
                    break;
                };
                let size = usize::from(size % 72);
                let value = match input.take(size) {
                    Some(v) if size > 0 && index % 7 != 0 => v.as_ptr().cast(),
                    _ => std::ptr::null(),
                };
                // SAFETY: `value` is null or points to `size` readable bytes.
                let _ =
                    unsafe { api.zeKernelSetArgumentValue(k, u32::from(index % 8), size, value) };
            }
            // A pointer into, around or far from one of the buffers.
            1 => {
                let (Some(index), Some(b), Some(off)) = (input.byte(), input.byte(), input.u16())
                else {
                    break;
                };
                let base = s.buffers[b as usize % BUFFERS] as i64;
                let ptr = match b % 4 {
                    0 => base + i64::from(off) - 512,
                    1 => base + i64::from(off) * 4096,
                    2 => i64::from(off) << 20,
                    _ => base,
                };
                // SAFETY: the value is 8 readable bytes (the pointer's value itself).
                let _ = unsafe {
                    api.zeKernelSetArgumentValue(
                        k,
                        u32::from(index % 8),
                        8,
                        (&raw const ptr).cast(),
                    )
                };
            }
            // Any group size.
            2 => {
                let (Some(x), Some(y), Some(z)) = (input.u16(), input.byte(), input.byte()) else {
                    break;
                };
                // SAFETY: a live kernel.
                let _ = unsafe {
                    api.zeKernelSetGroupSize(
                        k,
                        u32::from(x % 1100),
                        u32::from(y % 4),
                        u32::from(z % 4),
                    )
                };
            }
            // A suggestion for any global size.
            3 => {
                let (Some(x), Some(y), Some(z)) = (input.u16(), input.u16(), input.u16()) else {
                    break;
                };
                let mut out = [0u32; 3];
                // SAFETY: a live kernel and valid outputs.
                let _ = unsafe {
                    api.zeKernelSuggestGroupSize(
                        k,
                        x.into(),
                        y.into(),
                        z.into(),
                        &mut out[0],
                        &mut out[1],
                        &mut out[2],
                    )
                };
            }
            // A launch of a few groups, then a wait (launch errors are fine).
            4 => {
                let (Some(x), Some(y)) = (input.byte(), input.byte()) else {
                    break;
                };
                let groups = ze_group_count_t {
                    groupCountX: u32::from(x % 5),
                    groupCountY: u32::from(y % 3),
                    groupCountZ: 1,
                };
                // SAFETY: live handles; what the kernel touches is checked by the driver.
                let _ = unsafe {
                    api.zeCommandListAppendLaunchKernel(
                        s.list,
                        k,
                        &groups,
                        std::ptr::null_mut(),
                        0,
                        std::ptr::null_mut(),
                    )
                };
                // SAFETY: a live list.
                let _ = unsafe { api.zeCommandListHostSynchronize(s.list, u64::MAX) };
            }
            // Properties and indirect access flags.
            _ => {
                let mut p = ze_kernel_properties_t::default();
                // SAFETY: a live kernel and a valid output.
                let _ = unsafe { api.zeKernelGetProperties(k, &mut p) };
                let flags = input.byte().unwrap_or(0);
                // SAFETY: a live kernel.
                let _ = unsafe { api.zeKernelSetIndirectAccess(k, u32::from(flags % 8)) };
            }
        }
    }
});
