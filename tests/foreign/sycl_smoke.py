"""Intel's SYCL runtime (through dpctl) on the CPU driver: a smoke test.

Run by .ci/sycl under the private sid runtime, with the driver presenting GPU-type devices
(LEVEL_ZERO_CPU_DEVICE_TYPE=gpu) and ONEAPI_DEVICE_SELECTOR=level_zero:*. It

- enumerates the SYCL devices and prints them (CI's log shows `level_zero:gpu:N` devices whose
  names are our driver's), and fails unless every one of them is ours;
- allocates device, shared and host USM on every device, fills them (memset), copies host ->
  device -> shared -> host and device -> device, and checks every byte;
- builds programs from this repository's committed SPIR-V (kernels/spv) with
  dpctl.program.create_program_from_spirv and runs vector_add, saxpy (a by-value float),
  reduce_sum (a __local pointer argument: a SYCL local accessor) and matmul_tiled (2-D,
  reqd_work_group_size 16x16), checking results exactly against Python;
- runs two queues on two devices of one context and an out-of-order queue with events.

Exit status 0 only if every check passed; each check prints one line.
"""

import ctypes
import os
import struct
import sys
import time

import dpctl
import dpctl.memory as dpm
import dpctl.program as dpp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPV = os.path.join(REPO, "kernels", "spv")
DRIVER_NAME = "level-zero-cpu"

failures = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def floats(values):
    return struct.pack(f"<{len(values)}f", *values)


def unfloats(data):
    return list(struct.unpack(f"<{len(data) // 4}f", bytes(data)))


def f32(x):
    """Round a Python float to IEEE single precision."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def program(queue, name, opt="O2"):
    with open(os.path.join(SPV, f"{name}.{opt}.spv"), "rb") as f:
        return dpp.create_program_from_spirv(queue, f.read())


def enumerate_devices():
    devices = dpctl.get_devices()
    print(f"SYCL devices ({len(devices)}):")
    for d in devices:
        print(
            f"  {d.filter_string}: {d.name} | backend {d.backend.name} | type {d.device_type.name}"
            f" | driver {d.driver_version} | {d.max_compute_units} compute units"
            f" | global memory {d.global_mem_size} bytes"
        )
    check("at least one device", len(devices) > 0)
    for d in devices:
        check(
            f"{d.filter_string} is a level_zero:gpu device of our driver",
            d.backend == dpctl.backend_type.level_zero
            and d.device_type == dpctl.device_type.gpu
            and DRIVER_NAME in d.name,
            f"backend {d.backend}, type {d.device_type}, name {d.name!r}",
        )
    return devices


def usm(queue, tag):
    n = 4096
    pattern = bytes((i * 7 + 3) % 256 for i in range(n))
    kinds = {"device": dpm.MemoryUSMDevice, "shared": dpm.MemoryUSMShared, "host": dpm.MemoryUSMHost}
    bufs = {}
    for kind, cls in kinds.items():
        b = cls(n, queue=queue)
        check(f"{tag}: {kind} USM reports its kind", b.get_usm_type() == kind, b.get_usm_type())
        b.memset(0xA5)
        check(f"{tag}: {kind} USM memset", b.copy_to_host().tobytes() == b"\xa5" * n)
        bufs[kind] = b
    # host -> device -> shared -> host memory -> back to the host.
    bufs["device"].copy_from_host(pattern)
    bufs["shared"].copy_from_device(bufs["device"])
    bufs["host"].copy_from_device(bufs["shared"])
    check(f"{tag}: host -> device -> shared -> host USM copies", bufs["host"].copy_to_host().tobytes() == pattern)
    # queue.memcpy between two device allocations, partial.
    other = dpm.MemoryUSMDevice(n, queue=queue)
    other.memset(0)
    queue.memcpy(other, bufs["device"], n // 2)
    got = other.copy_to_host().tobytes()
    check(f"{tag}: queue.memcpy device -> device (half)", got == pattern[: n // 2] + bytes(n // 2))
    # Shared memory is readable from the host directly (its buffer protocol).
    shared_view = memoryview(bufs["shared"]).tobytes()
    check(f"{tag}: shared USM is host-readable in place", shared_view == pattern)


def vector_add(queue, tag, opt):
    n = 1000
    a = [float(i) * 0.5 for i in range(n)]
    b = [float(n - i) * 0.25 for i in range(n)]
    prog = program(queue, "vector_add", opt)
    check(f"{tag}: vector_add.{opt}.spv has its kernel", prog.has_sycl_kernel("vector_add"))
    k = prog.get_sycl_kernel("vector_add")
    check(f"{tag}: kernel reports 3 arguments", k.get_num_args() == 3, str(k.get_num_args()))
    da, db = dpm.MemoryUSMDevice(4 * n, queue=queue), dpm.MemoryUSMShared(4 * n, queue=queue)
    dc = dpm.MemoryUSMDevice(4 * n, queue=queue)
    da.copy_from_host(floats(a))
    db.copy_from_host(floats(b))
    queue.submit(k, [da, db, dc], [n])
    got = unfloats(dc.copy_to_host())
    want = [f32(f32(x) + f32(y)) for x, y in zip(a, b)]
    check(f"{tag}: vector_add.{opt} (1000 items, no local size)", got == want)


def saxpy(queue, tag):
    n = 256
    x = [float(i) for i in range(n)]
    y = [float(3 * i + 1) for i in range(n)]
    k = program(queue, "saxpy").get_sycl_kernel("saxpy")
    dx, dy = dpm.MemoryUSMShared(4 * n, queue=queue), dpm.MemoryUSMHost(4 * n, queue=queue)
    dx.copy_from_host(floats(x))
    dy.copy_from_host(floats(y))
    queue.submit(k, [ctypes.c_float(2.5), dx, dy], [n], [64])
    got = unfloats(dy.copy_to_host())
    want = [f32(2.5 * xi + yi) for xi, yi in zip(x, y)]
    check(f"{tag}: saxpy (by-value float, host USM output, local size 64)", got == want)
    # A zero-valued scalar: the SYCL runtime passes some zero values as a NULL pointer.
    queue.submit(k, [ctypes.c_float(0.0), dx, dy], [n], [64])
    check(f"{tag}: saxpy with a = 0 leaves y", unfloats(dy.copy_to_host()) == want)


def reduce_sum(queue, tag):
    groups, lws = 8, 64
    n = groups * lws
    data = [float(i % 17) for i in range(n)]
    k = program(queue, "reduce").get_sycl_kernel("reduce_sum")
    din, dpart = dpm.MemoryUSMDevice(4 * n, queue=queue), dpm.MemoryUSMDevice(4 * groups, queue=queue)
    din.copy_from_host(floats(data))
    queue.submit(k, [din, dpart, dpctl.LocalAccessor("f4", (lws,))], [n], [lws])
    got = unfloats(dpart.copy_to_host())
    want = [sum(data[g * lws : (g + 1) * lws]) for g in range(groups)]
    check(f"{tag}: reduce_sum (local accessor, barriers)", got == want, f"{got} != {want}")


def matmul(queue, tag):
    n = 32
    a = [float((i * 3) % 7) for i in range(n * n)]
    b = [float((i * 5) % 11) for i in range(n * n)]
    k = program(queue, "matmul").get_sycl_kernel("matmul_tiled")
    da, db, dc = (dpm.MemoryUSMDevice(4 * n * n, queue=queue) for _ in range(3))
    da.copy_from_host(floats(a))
    db.copy_from_host(floats(b))
    queue.submit(k, [da, db, dc, ctypes.c_uint32(n)], [n, n], [16, 16])
    got = unfloats(dc.copy_to_host())
    want = [sum(a[r * n + i] * b[i * n + c] for i in range(n)) for r in range(n) for c in range(n)]
    check(f"{tag}: matmul_tiled (2-D, 16x16 local tiles)", got == want)


def out_of_order(queue, tag):
    # An out-of-order queue: a fill, a kernel that depends on it by event, and a copy after.
    q = dpctl.SyclQueue(queue.sycl_context, queue.sycl_device)
    n = 512
    k = program(q, "vector_add").get_sycl_kernel("vector_add")
    da, db, dc = (dpm.MemoryUSMShared(4 * n, queue=q) for _ in range(3))
    da.copy_from_host(floats([1.0] * n))
    db.copy_from_host(floats([float(i) for i in range(n)]))
    e1 = q.submit_async(k, [da, db, dc], [n])
    e2 = q.submit_async(k, [dc, db, da], [n], None, [e1])
    e2.wait()
    check(f"{tag}: out-of-order queue, kernel after kernel by event",
          unfloats(da.copy_to_host()) == [1.0 + 2.0 * i for i in range(n)])


def multi_device(devices):
    if len(devices) < 2:
        print("skip  two devices in one context: only one device")
        return
    ctx = dpctl.SyclContext(devices[:2])
    q0, q1 = dpctl.SyclQueue(ctx, devices[0]), dpctl.SyclQueue(ctx, devices[1])
    n = 1024
    buf = dpm.MemoryUSMShared(n, queue=q0)
    buf.copy_from_host(bytes(range(256)) * 4)
    dst = dpm.MemoryUSMDevice(n, queue=q1)
    q1.memcpy(dst, buf, n)
    check("two devices in one context: shared USM of device 0 copied by device 1's queue",
          dst.copy_to_host().tobytes() == bytes(range(256)) * 4)


def main():
    start = time.time()
    print(f"dpctl {dpctl.__version__}")
    devices = enumerate_devices()
    for d in devices:
        q = dpctl.SyclQueue(d, property="in_order")
        tag = d.filter_string
        for step in (usm, lambda q, t: vector_add(q, t, "O0"), lambda q, t: vector_add(q, t, "O2"),
                     saxpy, reduce_sum, matmul, out_of_order):
            try:
                step(q, tag)
            except Exception as e:  # a failure of one step is reported, the others still run
                check(f"{tag}: {getattr(step, '__name__', 'step')} raised", False, f"{type(e).__name__}: {e}")
    try:
        multi_device(devices)
    except Exception as e:
        check("two devices in one context raised", False, f"{type(e).__name__}: {e}")
    print(f"sycl_smoke: {len(failures)} failure(s) in {time.time() - start:.1f} s")
    for f in failures:
        print(f"  failed: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
