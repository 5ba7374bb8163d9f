//! The OpenCL functions the kernel benchmark needs, loaded at run time from `libOpenCL.so.1`
//! (the ICD loader; Debian's `ocl-icd-libopencl1`), so that the benchmarks build and run
//! without OpenCL and report the OpenCL platforms as unavailable. Used to run the same kernels
//! on pocl (OpenCL C source) and on Intel's CPU runtime (the committed SPIR-V, through
//! `clCreateProgramWithIL`), from the same process, as the CPU driver.

#![allow(non_camel_case_types, non_snake_case, dead_code)]

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr::null_mut;

type cl_int = i32;
type cl_uint = u32;
type Handle = *mut c_void;

const CL_SUCCESS: cl_int = 0;
const CL_DEVICE_TYPE_CPU: u64 = 1 << 1;
const CL_DEVICE_NOT_FOUND: cl_int = -1;
const CL_MEM_READ_WRITE: u64 = 1;
const CL_PLATFORM_VERSION: cl_uint = 0x0901;
const CL_PLATFORM_NAME: cl_uint = 0x0902;
const CL_DEVICE_NAME: cl_uint = 0x102B;
const CL_DEVICE_IL_VERSION: cl_uint = 0x105B;
const CL_PROGRAM_BUILD_LOG: cl_uint = 0x1183;

macro_rules! cl_functions {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        struct Fns {
            $($name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            /// OpenCL 2.1's `clCreateProgramWithIL`: `None` where the ICD loader lacks it.
            clCreateProgramWithIL: Option<CreateProgramWithIL>,
        }
        impl Fns {
            fn load(lib: &libloading::Library) -> Result<Fns, String> {
                Ok(Fns { $($name: {
                    // SAFETY: the ICD loader exports these OpenCL 1.2 functions with these
                    // signatures; the pointer is copied out while `lib` stays loaded (the
                    // `OpenCl` object owns it).
                    let f = unsafe { lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                        concat!(stringify!($name), "\0").as_bytes()) }
                        .map_err(|e| format!("{}: {e}", stringify!($name)))?;
                    *f
                },)*
                    // SAFETY: as above; an OpenCL 2.1 ICD loader exports it with this
                    // signature, an older one not at all (then IL is unavailable).
                    clCreateProgramWithIL: unsafe {
                        lib.get::<CreateProgramWithIL>(b"clCreateProgramWithIL\0")
                    }
                    .ok()
                    .map(|f| *f),
                })
            }
        }
    };
}

type CreateProgramWithIL =
    unsafe extern "C" fn(Handle, *const c_void, usize, *mut cl_int) -> Handle;

cl_functions! {
    clGetPlatformIDs: fn(cl_uint, *mut Handle, *mut cl_uint) -> cl_int;
    clGetPlatformInfo: fn(Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;
    clGetDeviceIDs: fn(Handle, u64, cl_uint, *mut Handle, *mut cl_uint) -> cl_int;
    clCreateContext: fn(*const isize, cl_uint, *const Handle, *mut c_void, *mut c_void, *mut cl_int) -> Handle;
    clCreateCommandQueue: fn(Handle, Handle, u64, *mut cl_int) -> Handle;
    clCreateProgramWithSource: fn(Handle, cl_uint, *const *const c_char, *const usize, *mut cl_int) -> Handle;
    clBuildProgram: fn(Handle, cl_uint, *const Handle, *const c_char, *mut c_void, *mut c_void) -> cl_int;
    clGetProgramBuildInfo: fn(Handle, Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;
    clGetDeviceInfo: fn(Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;
    clCreateKernel: fn(Handle, *const c_char, *mut cl_int) -> Handle;
    clCreateBuffer: fn(Handle, u64, usize, *mut c_void, *mut cl_int) -> Handle;
    clSetKernelArg: fn(Handle, cl_uint, usize, *const c_void) -> cl_int;
    clEnqueueNDRangeKernel: fn(Handle, Handle, cl_uint, *const usize, *const usize, *const usize, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clEnqueueWriteBuffer: fn(Handle, Handle, cl_uint, usize, usize, *const c_void, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clEnqueueReadBuffer: fn(Handle, Handle, cl_uint, usize, usize, *mut c_void, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clFinish: fn(Handle) -> cl_int;
    clReleaseMemObject: fn(Handle) -> cl_int;
    clReleaseKernel: fn(Handle) -> cl_int;
    clRetainProgram: fn(Handle) -> cl_int;
    clReleaseProgram: fn(Handle) -> cl_int;
    clReleaseCommandQueue: fn(Handle) -> cl_int;
    clReleaseContext: fn(Handle) -> cl_int;
}

/// The first CPU device of one OpenCL platform, with a context and an in-order queue.
pub struct OpenCl {
    f: Fns,
    ctx: Handle,
    device: Handle,
    queue: Handle,
    /// The platform's name (`CL_PLATFORM_NAME`).
    pub platform: String,
    /// The platform's version string (`CL_PLATFORM_VERSION`).
    pub platform_version: String,
    /// The device's name (`CL_DEVICE_NAME`).
    pub device_name: String,
    /// The intermediate languages the device accepts (`CL_DEVICE_IL_VERSION`, OpenCL 2.1;
    /// empty where the device does not answer).
    pub il_version: String,
    _lib: libloading::Library,
}

fn check(what: &str, r: cl_int) -> Result<(), String> {
    if r == CL_SUCCESS {
        Ok(())
    } else {
        Err(format!("{what} failed with OpenCL error {r}"))
    }
}

type InfoFn = unsafe extern "C" fn(Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;

/// A string property of a platform or device, without its NUL.
///
/// # Safety
///
/// `handle` is a valid handle of the kind `f` queries (a platform for `clGetPlatformInfo`, a
/// device for `clGetDeviceInfo`).
unsafe fn info_string(f: InfoFn, handle: Handle, param: cl_uint) -> Result<String, String> {
    let mut len = 0;
    // SAFETY: a size query on a valid handle (the caller's promise).
    check("info query", unsafe {
        f(handle, param, 0, null_mut(), &mut len)
    })?;
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` holds the `len` bytes the size query asked for.
    check("info query", unsafe {
        f(handle, param, len, buf.as_mut_ptr().cast(), null_mut())
    })?;
    while buf.last() == Some(&0) {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A built program of an `OpenCl` device.
pub struct ClProgram(Handle);

/// A kernel of an `OpenCl` device (holding a reference on its program).
pub struct ClKernel {
    program: Handle,
    kernel: Handle,
}

/// A device buffer of an `OpenCl` context.
pub struct ClBuffer(Handle);

impl OpenCl {
    /// Loads the ICD loader and opens the first CPU device of the first platform whose name
    /// contains `name` and which has one (e.g. "Portable Computing Language", pocl's; "Intel",
    /// Intel's CPU runtime, whose platform is "Intel(R) OpenCL").
    pub fn open(name: &str) -> Result<OpenCl, String> {
        // SAFETY: loading the system's OpenCL ICD loader, which the benchmark is about.
        let lib = unsafe { libloading::Library::new("libOpenCL.so.1") }
            .map_err(|e| format!("libOpenCL.so.1: {e}"))?;
        let f = Fns::load(&lib)?;
        let mut n = 0;
        // SAFETY: count query.
        check("clGetPlatformIDs", unsafe {
            (f.clGetPlatformIDs)(0, null_mut(), &mut n)
        })?;
        let mut plats = vec![null_mut(); n as usize];
        // SAFETY: room for `n` handles.
        check("clGetPlatformIDs", unsafe {
            (f.clGetPlatformIDs)(n, plats.as_mut_ptr(), null_mut())
        })?;
        let mut seen = Vec::new();
        for p in plats {
            // SAFETY: `p` is a platform handle clGetPlatformIDs returned.
            let Ok(pname) = (unsafe { info_string(f.clGetPlatformInfo, p, CL_PLATFORM_NAME) })
            else {
                continue;
            };
            if !pname.contains(name) {
                seen.push(pname);
                continue;
            }
            // SAFETY: as above.
            let platform_version =
                unsafe { info_string(f.clGetPlatformInfo, p, CL_PLATFORM_VERSION) }
                    .unwrap_or_default();
            let mut device = null_mut();
            // SAFETY: room for one device handle.
            let r =
                unsafe { (f.clGetDeviceIDs)(p, CL_DEVICE_TYPE_CPU, 1, &mut device, null_mut()) };
            if r == CL_DEVICE_NOT_FOUND {
                seen.push(format!("{pname} (no CPU device)"));
                continue;
            }
            check("clGetDeviceIDs", r)?;
            // SAFETY: `device` is a device handle clGetDeviceIDs returned.
            let device_name = unsafe { info_string(f.clGetDeviceInfo, device, CL_DEVICE_NAME) }
                .unwrap_or_default();
            // SAFETY: as above; devices before OpenCL 2.1 refuse the query (then empty).
            let il_version =
                unsafe { info_string(f.clGetDeviceInfo, device, CL_DEVICE_IL_VERSION) }
                    .unwrap_or_default();
            let mut err = 0;
            // SAFETY: one valid device, no callback.
            let ctx = unsafe {
                (f.clCreateContext)(
                    std::ptr::null(),
                    1,
                    &device,
                    null_mut(),
                    null_mut(),
                    &mut err,
                )
            };
            check("clCreateContext", err)?;
            // SAFETY: valid context and device, default (in-order) properties.
            let queue = unsafe { (f.clCreateCommandQueue)(ctx, device, 0, &mut err) };
            check("clCreateCommandQueue", err)?;
            return Ok(OpenCl {
                f,
                ctx,
                device,
                queue,
                platform: pname,
                platform_version,
                device_name,
                il_version,
                _lib: lib,
            });
        }
        Err(format!(
            "no OpenCL platform named like {name:?} (platforms: {})",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        ))
    }

    /// Whether programs can be created from SPIR-V: `Err` says why not (the ICD loader lacks
    /// `clCreateProgramWithIL`, or the device lists no SPIR-V in `CL_DEVICE_IL_VERSION`).
    pub fn accepts_spirv(&self) -> Result<(), String> {
        if self.f.clCreateProgramWithIL.is_none() {
            return Err("the ICD loader has no clCreateProgramWithIL (OpenCL 2.1)".into());
        }
        if !self.il_version.contains("SPIR-V") {
            return Err(format!(
                "the device accepts no SPIR-V (CL_DEVICE_IL_VERSION {:?})",
                self.il_version
            ));
        }
        Ok(())
    }

    /// Builds a created program for the device; on failure releases it and returns the log.
    fn build(&self, program: Handle, options: &CStr) -> Result<ClProgram, String> {
        // SAFETY: valid program and device, NUL-terminated options, no callback.
        let r = unsafe {
            (self.f.clBuildProgram)(
                program,
                1,
                &self.device,
                options.as_ptr(),
                null_mut(),
                null_mut(),
            )
        };
        if r == CL_SUCCESS {
            return Ok(ClProgram(program));
        }
        let mut log = vec![0u8; 1 << 16];
        let mut len = 0;
        // SAFETY: `log` holds 64 KiB; the program is released once, here.
        unsafe {
            (self.f.clGetProgramBuildInfo)(
                program,
                self.device,
                CL_PROGRAM_BUILD_LOG,
                log.len(),
                log.as_mut_ptr().cast(),
                &mut len,
            );
            (self.f.clReleaseProgram)(program);
        }
        Err(format!(
            "clBuildProgram failed with OpenCL error {r}: {}",
            String::from_utf8_lossy(&log[..len.min(log.len())]).trim_end_matches('\0')
        ))
    }

    /// Creates and builds a program from OpenCL C `source` (OpenCL C 1.2).
    pub fn program_source(&self, source: &str) -> Result<ClProgram, String> {
        let src = CString::new(source).unwrap();
        let ptr = src.as_ptr();
        let mut err = 0;
        // SAFETY: one NUL-terminated source string.
        let program = unsafe {
            (self.f.clCreateProgramWithSource)(self.ctx, 1, &ptr, std::ptr::null(), &mut err)
        };
        check("clCreateProgramWithSource", err)?;
        self.build(program, c"-cl-std=CL1.2")
    }

    /// Creates and builds a program from a SPIR-V module (`clCreateProgramWithIL`).
    pub fn program_spirv(&self, spirv: &[u8]) -> Result<ClProgram, String> {
        self.accepts_spirv()?;
        let create = self
            .f
            .clCreateProgramWithIL
            .expect("checked by accepts_spirv");
        let mut err = 0;
        // SAFETY: `spirv.len()` bytes at `spirv`, which the runtime copies before returning.
        let program = unsafe { create(self.ctx, spirv.as_ptr().cast(), spirv.len(), &mut err) };
        check("clCreateProgramWithIL", err)?;
        self.build(program, c"")
    }

    /// A kernel of a built program (which it keeps alive: the program may be released).
    pub fn create_kernel(&self, program: &ClProgram, kernel: &str) -> Result<ClKernel, String> {
        let name = CString::new(kernel).unwrap();
        let mut err = 0;
        // SAFETY: a built program and a NUL-terminated name.
        let k = unsafe { (self.f.clCreateKernel)(program.0, name.as_ptr(), &mut err) };
        check(&format!("clCreateKernel({kernel})"), err)?;
        // SAFETY: a valid program; the reference is the kernel's, released with it.
        check("clRetainProgram", unsafe {
            (self.f.clRetainProgram)(program.0)
        })?;
        Ok(ClKernel {
            program: program.0,
            kernel: k,
        })
    }

    /// Builds `kernel` from OpenCL C `source`.
    pub fn kernel(&self, source: &str, kernel: &str) -> Result<ClKernel, String> {
        let program = self.program_source(source)?;
        let k = self.create_kernel(&program, kernel);
        self.release_program(program);
        k
    }

    /// Builds `kernel` from a SPIR-V module.
    pub fn kernel_spirv(&self, spirv: &[u8], kernel: &str) -> Result<ClKernel, String> {
        let program = self.program_spirv(spirv)?;
        let k = self.create_kernel(&program, kernel);
        self.release_program(program);
        k
    }

    /// A buffer holding `data`.
    pub fn buffer<T: bytemuck::Pod>(&self, data: &[T]) -> Result<ClBuffer, String> {
        let bytes = std::mem::size_of_val(data).max(1);
        let mut err = 0;
        // SAFETY: valid context, no host pointer.
        let b = unsafe {
            (self.f.clCreateBuffer)(self.ctx, CL_MEM_READ_WRITE, bytes, null_mut(), &mut err)
        };
        check("clCreateBuffer", err)?;
        let b = ClBuffer(b);
        self.write(&b, data)?;
        Ok(b)
    }

    /// Writes `data` to the start of a buffer at least as large (blocking).
    pub fn write<T: bytemuck::Pod>(&self, b: &ClBuffer, data: &[T]) -> Result<(), String> {
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: a blocking write of `data`'s bytes, which the buffer is at least as large as.
        check("clEnqueueWriteBuffer", unsafe {
            (self.f.clEnqueueWriteBuffer)(
                self.queue,
                b.0,
                1,
                0,
                std::mem::size_of_val(data),
                data.as_ptr().cast(),
                0,
                std::ptr::null(),
                null_mut(),
            )
        })
    }

    /// Reads a buffer back.
    pub fn read<T: bytemuck::Pod>(&self, b: &ClBuffer, out: &mut [T]) -> Result<(), String> {
        // SAFETY: a blocking read into `out`, which the buffer is at least as large as.
        check("clEnqueueReadBuffer", unsafe {
            (self.f.clEnqueueReadBuffer)(
                self.queue,
                b.0,
                1,
                0,
                std::mem::size_of_val(out),
                out.as_mut_ptr().cast(),
                0,
                std::ptr::null(),
                null_mut(),
            )
        })
    }

    /// Sets a buffer argument.
    pub fn arg_buffer(&self, k: &ClKernel, i: u32, b: &ClBuffer) -> Result<(), String> {
        // SAFETY: a cl_mem argument by value.
        check("clSetKernelArg", unsafe {
            (self.f.clSetKernelArg)(k.kernel, i, size_of::<Handle>(), (&raw const b.0).cast())
        })
    }

    /// Sets a value argument.
    pub fn arg<T: Copy>(&self, k: &ClKernel, i: u32, v: &T) -> Result<(), String> {
        // SAFETY: `size_of::<T>()` bytes at `v`.
        check("clSetKernelArg", unsafe {
            (self.f.clSetKernelArg)(k.kernel, i, size_of::<T>(), (v as *const T).cast())
        })
    }

    /// Enqueues a 1-D or 2-D range and waits for it (clFinish).
    pub fn run(
        &self,
        k: &ClKernel,
        global: &[usize],
        local: Option<&[usize]>,
    ) -> Result<(), String> {
        let lp = local.map_or(std::ptr::null(), |l| l.as_ptr());
        // SAFETY: `global` (and `local`) hold `global.len()` sizes.
        check("clEnqueueNDRangeKernel", unsafe {
            (self.f.clEnqueueNDRangeKernel)(
                self.queue,
                k.kernel,
                global.len() as u32,
                std::ptr::null(),
                global.as_ptr(),
                lp,
                0,
                std::ptr::null(),
                null_mut(),
            )
        })?;
        // SAFETY: valid queue.
        check("clFinish", unsafe { (self.f.clFinish)(self.queue) })
    }

    /// Releases a program (kernels created from it keep their own reference).
    pub fn release_program(&self, p: ClProgram) {
        // SAFETY: a program created by this object; this reference is released once.
        unsafe { (self.f.clReleaseProgram)(p.0) };
    }

    /// Releases a kernel.
    pub fn release_kernel(&self, k: ClKernel) {
        // SAFETY: handles created by this object, released once (the program reference is
        // the kernel's own, taken in `create_kernel`).
        unsafe {
            (self.f.clReleaseKernel)(k.kernel);
            (self.f.clReleaseProgram)(k.program);
        }
    }

    /// Releases a buffer.
    pub fn release_buffer(&self, b: ClBuffer) {
        // SAFETY: a buffer created by this object, released once.
        unsafe { (self.f.clReleaseMemObject)(b.0) };
    }
}

impl Drop for OpenCl {
    fn drop(&mut self) {
        // SAFETY: the queue and context were created by this object and are released once.
        unsafe {
            (self.f.clReleaseCommandQueue)(self.queue);
            (self.f.clReleaseContext)(self.ctx);
        }
    }
}
