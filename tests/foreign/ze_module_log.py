"""Build SPIR-V modules through the Level Zero loader and print the driver's build log.

A diagnostic for foreign clients: Intel's SYCL runtime calls zeModuleCreate with
phBuildLog = NULL, so when a program fails to build it shows only
ZE_RESULT_ERROR_MODULE_BUILD_FAILURE. This script makes the same call with a build log and
prints it, and on success lists the module's kernels.

    python3 tests/foreign/ze_module_log.py FILE.spv [FILE.spv ...]

Uses whatever `libze_loader.so.1` the dynamic loader finds (run it under the sid runtime as
.ci/sycl does, or with bookworm's loader), with ZE_ENABLE_ALT_DRIVERS naming the CPU driver.
Exit status: the number of modules that failed to build.
"""

import ctypes as C
import sys

ZE_STRUCTURE_TYPE_CONTEXT_DESC = 13
ZE_STRUCTURE_TYPE_MODULE_DESC = 27
ZE_MODULE_FORMAT_IL_SPIRV = 0


class ContextDesc(C.Structure):
    _fields_ = [("stype", C.c_int), ("pNext", C.c_void_p), ("flags", C.c_uint32)]


class ModuleDesc(C.Structure):
    _fields_ = [
        ("stype", C.c_int),
        ("pNext", C.c_void_p),
        ("format", C.c_int),
        ("inputSize", C.c_size_t),
        ("pInputModule", C.c_char_p),
        ("pBuildFlags", C.c_char_p),
        ("pConstants", C.c_void_p),
    ]


def call(ze, name, *args):
    rc = getattr(ze, name)(*args) & 0xFFFFFFFF
    if rc != 0:
        raise RuntimeError(f"{name} returned 0x{rc:08x}")


def main(paths):
    ze = C.CDLL("libze_loader.so.1")
    call(ze, "zeInit", 0)
    n = C.c_uint32(1)
    driver = C.c_void_p()
    call(ze, "zeDriverGet", C.byref(n), C.byref(driver))
    n = C.c_uint32(1)
    device = C.c_void_p()
    call(ze, "zeDeviceGet", driver, C.byref(n), C.byref(device))
    ctx = C.c_void_p()
    call(ze, "zeContextCreate", driver, C.byref(ContextDesc(ZE_STRUCTURE_TYPE_CONTEXT_DESC, None, 0)), C.byref(ctx))
    failed = 0
    for path in paths:
        data = open(path, "rb").read()
        desc = ModuleDesc(ZE_STRUCTURE_TYPE_MODULE_DESC, None, ZE_MODULE_FORMAT_IL_SPIRV, len(data), data, b"", None)
        module, log = C.c_void_p(), C.c_void_p()
        rc = ze.zeModuleCreate(ctx, device, C.byref(desc), C.byref(module), C.byref(log)) & 0xFFFFFFFF
        size = C.c_size_t(0)
        text = ""
        if log.value:
            call(ze, "zeModuleBuildLogGetString", log, C.byref(size), None)
            buf = C.create_string_buffer(size.value)
            call(ze, "zeModuleBuildLogGetString", log, C.byref(size), buf)
            text = buf.value.decode(errors="replace")
            ze.zeModuleBuildLogDestroy(log)
        if rc == 0:
            count = C.c_uint32(0)
            call(ze, "zeModuleGetKernelNames", module, C.byref(count), None)
            names = (C.c_char_p * count.value)()
            call(ze, "zeModuleGetKernelNames", module, C.byref(count), names)
            print(f"{path}: built; kernels: {', '.join(x.decode() for x in names)}")
            ze.zeModuleDestroy(module)
        else:
            failed += 1
            print(f"{path}: zeModuleCreate returned 0x{rc:08x}; build log:\n{text or '(empty)'}")
    ze.zeContextDestroy(ctx)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
