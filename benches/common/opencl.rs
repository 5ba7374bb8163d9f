//! The OpenCL functions the kernel benchmark needs, loaded at run time from `libOpenCL.so.1`
//! (the ICD loader; Debian's `ocl-icd-libopencl1`), so that the benchmarks build and run
//! without OpenCL and report pocl as unavailable. Used to run the same OpenCL C kernels on
//! pocl, from the same process, as the CPU driver.

#![allow(non_camel_case_types, non_snake_case, dead_code)]

use std::ffi::{CString, c_char, c_void};
use std::ptr::null_mut;

type cl_int = i32;
type cl_uint = u32;
type Handle = *mut c_void;

const CL_SUCCESS: cl_int = 0;
const CL_DEVICE_TYPE_ALL: u64 = 0xFFFF_FFFF;
const CL_MEM_READ_WRITE: u64 = 1;
const CL_PLATFORM_NAME: cl_uint = 0x0902;
const CL_PROGRAM_BUILD_LOG: cl_uint = 0x1183;

macro_rules! cl_functions {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        struct Fns { $($name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)* }
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
                },)* })
            }
        }
    };
}

cl_functions! {
    clGetPlatformIDs: fn(cl_uint, *mut Handle, *mut cl_uint) -> cl_int;
    clGetPlatformInfo: fn(Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;
    clGetDeviceIDs: fn(Handle, u64, cl_uint, *mut Handle, *mut cl_uint) -> cl_int;
    clCreateContext: fn(*const isize, cl_uint, *const Handle, *mut c_void, *mut c_void, *mut cl_int) -> Handle;
    clCreateCommandQueue: fn(Handle, Handle, u64, *mut cl_int) -> Handle;
    clCreateProgramWithSource: fn(Handle, cl_uint, *const *const c_char, *const usize, *mut cl_int) -> Handle;
    clBuildProgram: fn(Handle, cl_uint, *const Handle, *const c_char, *mut c_void, *mut c_void) -> cl_int;
    clGetProgramBuildInfo: fn(Handle, Handle, cl_uint, usize, *mut c_void, *mut usize) -> cl_int;
    clCreateKernel: fn(Handle, *const c_char, *mut cl_int) -> Handle;
    clCreateBuffer: fn(Handle, u64, usize, *mut c_void, *mut cl_int) -> Handle;
    clSetKernelArg: fn(Handle, cl_uint, usize, *const c_void) -> cl_int;
    clEnqueueNDRangeKernel: fn(Handle, Handle, cl_uint, *const usize, *const usize, *const usize, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clEnqueueWriteBuffer: fn(Handle, Handle, cl_uint, usize, usize, *const c_void, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clEnqueueReadBuffer: fn(Handle, Handle, cl_uint, usize, usize, *mut c_void, cl_uint, *const Handle, *mut Handle) -> cl_int;
    clFinish: fn(Handle) -> cl_int;
    clReleaseMemObject: fn(Handle) -> cl_int;
    clReleaseKernel: fn(Handle) -> cl_int;
    clReleaseProgram: fn(Handle) -> cl_int;
    clReleaseCommandQueue: fn(Handle) -> cl_int;
    clReleaseContext: fn(Handle) -> cl_int;
}

/// pocl's first device, with a context and an in-order queue.
pub struct OpenCl {
    f: Fns,
    ctx: Handle,
    device: Handle,
    queue: Handle,
    /// The platform's name.
    pub platform: String,
    _lib: libloading::Library,
}

fn check(what: &str, r: cl_int) -> Result<(), String> {
    if r == CL_SUCCESS {
        Ok(())
    } else {
        Err(format!("{what} failed with OpenCL error {r}"))
    }
}

/// A built kernel of an `OpenCl` device.
pub struct ClKernel {
    program: Handle,
    kernel: Handle,
}

/// A device buffer of an `OpenCl` context.
pub struct ClBuffer(Handle);

impl OpenCl {
    /// Loads the ICD loader and opens the platform whose name contains `name` (e.g.
    /// "Portable Computing Language", pocl's).
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
        for p in plats {
            let mut buf = vec![0u8; 256];
            let mut len = 0;
            // SAFETY: `buf` holds 256 bytes.
            let r = unsafe {
                (f.clGetPlatformInfo)(
                    p,
                    CL_PLATFORM_NAME,
                    buf.len(),
                    buf.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            if r != CL_SUCCESS {
                continue;
            }
            let pname =
                String::from_utf8_lossy(&buf[..len.saturating_sub(1).min(buf.len())]).into_owned();
            if !pname.contains(name) {
                continue;
            }
            let mut device = null_mut();
            // SAFETY: one device handle.
            check("clGetDeviceIDs", unsafe {
                (f.clGetDeviceIDs)(p, CL_DEVICE_TYPE_ALL, 1, &mut device, null_mut())
            })?;
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
                _lib: lib,
            });
        }
        Err(format!(
            "no OpenCL platform named like {name:?} (apt-get install pocl-opencl-icd)"
        ))
    }

    /// Builds `kernel` from OpenCL C `source`.
    pub fn kernel(&self, source: &str, kernel: &str) -> Result<ClKernel, String> {
        let src = CString::new(source).unwrap();
        let ptr = src.as_ptr();
        let mut err = 0;
        // SAFETY: one NUL-terminated source string.
        let program = unsafe {
            (self.f.clCreateProgramWithSource)(self.ctx, 1, &ptr, std::ptr::null(), &mut err)
        };
        check("clCreateProgramWithSource", err)?;
        let opts = c"-cl-std=CL1.2";
        // SAFETY: valid program and device, NUL-terminated options, no callback.
        let r = unsafe {
            (self.f.clBuildProgram)(
                program,
                1,
                &self.device,
                opts.as_ptr(),
                null_mut(),
                null_mut(),
            )
        };
        if r != CL_SUCCESS {
            let mut log = vec![0u8; 1 << 16];
            let mut len = 0;
            // SAFETY: `log` holds 64 KiB.
            unsafe {
                (self.f.clGetProgramBuildInfo)(
                    program,
                    self.device,
                    CL_PROGRAM_BUILD_LOG,
                    log.len(),
                    log.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            return Err(format!(
                "clBuildProgram: {}",
                String::from_utf8_lossy(&log[..len.min(log.len())])
            ));
        }
        let name = CString::new(kernel).unwrap();
        // SAFETY: a built program and a NUL-terminated name.
        let k = unsafe { (self.f.clCreateKernel)(program, name.as_ptr(), &mut err) };
        check("clCreateKernel", err)?;
        Ok(ClKernel { program, kernel: k })
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
        if !data.is_empty() {
            // SAFETY: a blocking write of `bytes` bytes from `data`.
            check("clEnqueueWriteBuffer", unsafe {
                (self.f.clEnqueueWriteBuffer)(
                    self.queue,
                    b,
                    1,
                    0,
                    bytes,
                    data.as_ptr().cast(),
                    0,
                    std::ptr::null(),
                    null_mut(),
                )
            })?;
        }
        Ok(ClBuffer(b))
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

    /// Releases a kernel.
    pub fn release_kernel(&self, k: ClKernel) {
        // SAFETY: handles created by this object, released once.
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
