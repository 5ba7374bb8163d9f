"""pocl's Level Zero device on the CPU driver: OpenCL C kernels built and run by a second
foreign client.

Run by .ci/pocl under the private sid runtime (pocl 7.1, clang 21, llvm-spirv 21 and the Level
Zero loader 1.32), with POCL_DEVICES=level0, an OCL_ICD_VENDORS directory naming sid's pocl,
and the driver presenting GPU-type devices. An OpenCL host program written with ctypes (no
OpenCL headers or Python bindings needed): it lists the platforms and devices (the log shows
pocl's level0 devices and our driver's device names), then builds this repository's OpenCL C
kernels (kernels/*.cl) from source (pocl compiles them to SPIR-V and hands them to
zeModuleCreate) and runs them, checking every result exactly.

Exit status 0 only if every check passed; each check prints one line.
"""

import ctypes as C
import os
import struct
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER_NAME = "level-zero-cpu"

CL_DEVICE_TYPE_ALL = 0xFFFFFFFF
CL_PLATFORM_NAME = 0x0902
CL_PLATFORM_VERSION = 0x0901
CL_DEVICE_NAME = 0x102B
CL_DEVICE_VERSION = 0x102F
CL_DEVICE_TYPE = 0x1000
CL_PROGRAM_BUILD_LOG = 0x1183
CL_MEM_READ_WRITE = 1 << 0
CL_MEM_COPY_HOST_PTR = 1 << 5

cl = C.CDLL("libOpenCL.so.1")
P = C.c_void_p
for name, args in {
    "clGetPlatformIDs": [C.c_uint32, C.POINTER(P), C.POINTER(C.c_uint32)],
    "clGetPlatformInfo": [P, C.c_uint32, C.c_size_t, P, C.POINTER(C.c_size_t)],
    "clGetDeviceIDs": [P, C.c_uint64, C.c_uint32, C.POINTER(P), C.POINTER(C.c_uint32)],
    "clGetDeviceInfo": [P, C.c_uint32, C.c_size_t, P, C.POINTER(C.c_size_t)],
    "clBuildProgram": [P, C.c_uint32, C.POINTER(P), C.c_char_p, P, P],
    "clGetProgramBuildInfo": [P, P, C.c_uint32, C.c_size_t, P, C.POINTER(C.c_size_t)],
    "clSetKernelArg": [P, C.c_uint32, C.c_size_t, P],
    "clEnqueueNDRangeKernel": [P, P, C.c_uint32, P, P, P, C.c_uint32, P, P],
    "clEnqueueReadBuffer": [P, P, C.c_uint32, C.c_size_t, C.c_size_t, P, C.c_uint32, P, P],
    "clFinish": [P],
    "clReleaseMemObject": [P],
    "clReleaseKernel": [P],
    "clReleaseProgram": [P],
    "clReleaseCommandQueue": [P],
    "clReleaseContext": [P],
}.items():
    getattr(cl, name).argtypes = args
    getattr(cl, name).restype = C.c_int32
for name, args in {
    "clCreateContext": [P, C.c_uint32, C.POINTER(P), P, P, C.POINTER(C.c_int32)],
    "clCreateCommandQueue": [P, P, C.c_uint64, C.POINTER(C.c_int32)],
    "clCreateProgramWithSource": [P, C.c_uint32, C.POINTER(C.c_char_p), P, C.POINTER(C.c_int32)],
    "clCreateKernel": [P, C.c_char_p, C.POINTER(C.c_int32)],
    "clCreateBuffer": [P, C.c_uint64, C.c_size_t, P, C.POINTER(C.c_int32)],
}.items():
    getattr(cl, name).argtypes = args
    getattr(cl, name).restype = P

failures = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


class ClError(Exception):
    pass


def ok(rc, what):
    if rc != 0:
        raise ClError(f"{what} returned {rc}")


def created(fn, *args):
    err = C.c_int32(0)
    h = fn(*args, C.byref(err))
    ok(err.value, fn.__name__)
    return h


def info_str(fn, h, param):
    size = C.c_size_t(0)
    ok(fn(h, param, 0, None, C.byref(size)), fn.__name__)
    buf = C.create_string_buffer(size.value)
    ok(fn(h, param, size, buf, None), fn.__name__)
    return buf.value.decode()


def floats(values):
    return struct.pack(f"<{len(values)}f", *values)


def unfloats(data):
    return list(struct.unpack(f"<{len(data) // 4}f", bytes(data)))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Device:
    def __init__(self, device):
        self.device = P(device)
        self.ctx = created(cl.clCreateContext, None, 1, C.byref(self.device), None, None)
        self.queue = created(cl.clCreateCommandQueue, self.ctx, self.device, 0)

    def build(self, file, options=b""):
        src = open(os.path.join(REPO, "kernels", file), "rb").read()
        prog = created(cl.clCreateProgramWithSource, self.ctx, 1, C.byref(C.c_char_p(src)), None)
        rc = cl.clBuildProgram(prog, 1, C.byref(self.device), options, None, None)
        if rc != 0:
            log = info_str(lambda h, p, s, b, r: cl.clGetProgramBuildInfo(h, self.device, p, s, b, r), prog,
                           CL_PROGRAM_BUILD_LOG)
            raise ClError(f"clBuildProgram({file}) returned {rc}; build log:\n{log}")
        return prog

    def buffer(self, data):
        buf = C.create_string_buffer(bytes(data), len(data))
        return created(cl.clCreateBuffer, self.ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, len(data), buf)

    def read(self, mem, size):
        out = C.create_string_buffer(size)
        ok(cl.clEnqueueReadBuffer(self.queue, mem, 1, 0, size, out, 0, None, None), "clEnqueueReadBuffer")
        return out.raw

    def run(self, prog, name, args, gws, lws=None):
        k = created(cl.clCreateKernel, prog, name.encode())
        for i, a in enumerate(args):
            if isinstance(a, tuple):  # ("local", bytes)
                ok(cl.clSetKernelArg(k, i, a[1], None), f"clSetKernelArg({i})")
            elif isinstance(a, C._SimpleCData):
                ok(cl.clSetKernelArg(k, i, C.sizeof(a), C.byref(a)), f"clSetKernelArg({i})")
            else:
                ok(cl.clSetKernelArg(k, i, C.sizeof(P), C.byref(P(a))), f"clSetKernelArg({i})")
        g = (C.c_size_t * len(gws))(*gws)
        l = (C.c_size_t * len(lws))(*lws) if lws else None
        ok(cl.clEnqueueNDRangeKernel(self.queue, k, len(gws), None, g, l, 0, None, None), "clEnqueueNDRangeKernel")
        ok(cl.clFinish(self.queue), "clFinish")
        cl.clReleaseKernel(k)


def vector_add(d, tag):
    n = 1000
    a = [float(i) * 0.5 for i in range(n)]
    b = [float(n - i) * 0.25 for i in range(n)]
    prog = d.build("vector_add.cl")
    ma, mb, mc = d.buffer(floats(a)), d.buffer(floats(b)), d.buffer(bytes(4 * n))
    d.run(prog, "vector_add", [ma, mb, mc], [n])
    check(f"{tag}: vector_add (OpenCL C source, 1000 items)",
          unfloats(d.read(mc, 4 * n)) == [f32(f32(x) + f32(y)) for x, y in zip(a, b)])


def saxpy(d, tag):
    n = 256
    x = [float(i) for i in range(n)]
    y = [float(3 * i + 1) for i in range(n)]
    prog = d.build("saxpy.cl")
    mx, my = d.buffer(floats(x)), d.buffer(floats(y))
    d.run(prog, "saxpy", [C.c_float(2.5), mx, my], [n], [64])
    check(f"{tag}: saxpy (a by-value float, local size 64)",
          unfloats(d.read(my, 4 * n)) == [f32(2.5 * a + b) for a, b in zip(x, y)])


def reduce_sum(d, tag):
    groups, lws = 8, 64
    n = groups * lws
    data = [float(i % 17) for i in range(n)]
    prog = d.build("reduce.cl")
    mi, mp = d.buffer(floats(data)), d.buffer(bytes(4 * groups))
    d.run(prog, "reduce_sum", [mi, mp, ("local", 4 * lws)], [n], [lws])
    check(f"{tag}: reduce_sum (a __local argument, barriers)",
          unfloats(d.read(mp, 4 * groups)) == [sum(data[g * lws:(g + 1) * lws]) for g in range(groups)])


def matmul(d, tag):
    n = 32
    a = [float((i * 3) % 7) for i in range(n * n)]
    b = [float((i * 5) % 11) for i in range(n * n)]
    prog = d.build("matmul.cl")
    ma, mb, mc = d.buffer(floats(a)), d.buffer(floats(b)), d.buffer(bytes(4 * n * n))
    d.run(prog, "matmul_tiled", [ma, mb, mc, C.c_uint32(n)], [n, n], [16, 16])
    want = [sum(a[r * n + i] * b[i * n + c] for i in range(n)) for r in range(n) for c in range(n)]
    check(f"{tag}: matmul_tiled (2-D, 16x16 __local tiles)", unfloats(d.read(mc, 4 * n * n)) == want)


def main():
    start = time.time()
    n = C.c_uint32(0)
    ok(cl.clGetPlatformIDs(0, None, C.byref(n)), "clGetPlatformIDs")
    plats = (P * n.value)()
    ok(cl.clGetPlatformIDs(n.value, plats, None), "clGetPlatformIDs")
    devices = []
    for p in plats:
        print(f"platform: {info_str(cl.clGetPlatformInfo, p, CL_PLATFORM_NAME)}"
              f" ({info_str(cl.clGetPlatformInfo, p, CL_PLATFORM_VERSION)})")
        m = C.c_uint32(0)
        if cl.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, None, C.byref(m)) != 0:
            continue
        devs = (P * m.value)()
        ok(cl.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, m.value, devs, None), "clGetDeviceIDs")
        for dv in devs:
            name = info_str(cl.clGetDeviceInfo, dv, CL_DEVICE_NAME)
            print(f"  device: {name} | {info_str(cl.clGetDeviceInfo, dv, CL_DEVICE_VERSION)}")
            devices.append((dv, name))
    check("pocl shows at least one device", len(devices) > 0)
    for dv, name in devices:
        check(f"{name!r} is our driver's device", DRIVER_NAME in name)
    for i, (dv, name) in enumerate(devices):
        tag = f"device {i}"
        d = Device(dv)
        for step in (vector_add, saxpy, reduce_sum, matmul):
            try:
                step(d, tag)
            except ClError as e:
                check(f"{tag}: {step.__name__}", False, str(e))
    print(f"pocl_smoke: {len(failures)} failure(s) in {time.time() - start:.1f} s")
    for f in failures:
        print(f"  failed: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
