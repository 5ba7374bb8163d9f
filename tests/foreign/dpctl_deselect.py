"""A pytest plugin for `python -m pytest --pyargs dpctl.tests` on the CPU driver (.ci/sycl).

It deselects the tests listed in DESELECTED, each with the reason it cannot pass on this
driver yet, prints the list with its reasons in the terminal summary, and fails the session if
a listed test no longer exists (so the list cannot rot). Set DPCTL_RUN_DESELECTED=1 to run them
anyway (to see whether the work they wait for has landed).

Every reason names the Level Zero call that fails, what the driver returns and why, and the
issue that covers the work. Tests that dpctl itself skips (no OpenCL or CPU device, no CUDA/HIP
platform, no sub-devices) are pytest skips, not deselections; .ci/sycl prints their reasons.
"""

import os

import pytest

_EXPECT_ASSUME = (
    "issue 13 (SPIR-V as DPC++ emits it): its SPIR-V declares capability ExpectAssumeKHR "
    "(SPV_KHR_expect_assume); zeModuleCreate returns ZE_RESULT_ERROR_MODULE_BUILD_FAILURE, "
    "build log 'unsupported capability ExpectAssumeKHR', and dpctl raises "
    "SyclProgramCompilationError"
)

# test id (file::name) -> why it is deselected
DESELECTED = {
    "test_raw_kernel_arg.py::test_submit_raw_kernel_arg_pointer": _EXPECT_ASSUME
    + " (input_files/raw-arg-kernel.spv)",
    "test_raw_kernel_arg.py::test_submit_raw_kernel_arg_buffer": _EXPECT_ASSUME
    + " (input_files/raw-arg-kernel.spv)",
    "test_sycl_kernel_submit.py::test_submit_local_accessor_arg": _EXPECT_ASSUME
    + " (input_files/local_accessor_kernel_inttys_fp32.spv)",
    "test_work_group_memory.py::test_submit_work_group_memory": _EXPECT_ASSUME
    + " (input_files/work-group-memory-kernel.spv)",
}

_deselected = []


def _key(item):
    # With --pyargs the node id starts with the path to the installed package.
    path, _, name = item.nodeid.partition("::")
    return os.path.basename(path) + "::" + name.split("[")[0]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DPCTL_RUN_DESELECTED") == "1":
        return
    keep, drop = [], []
    for item in items:
        (drop if _key(item) in DESELECTED else keep).append(item)
    missing = set(DESELECTED) - {_key(i) for i in drop}
    if missing:
        raise pytest.UsageError(
            "tests/foreign/dpctl_deselect.py lists tests that dpctl no longer has: "
            + ", ".join(sorted(missing))
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        _deselected.extend(drop)


def pytest_terminal_summary(terminalreporter):
    if not _deselected:
        return
    terminalreporter.section(f"deselected on the CPU driver ({len(_deselected)})")
    for item in _deselected:
        terminalreporter.write_line(f"{item.nodeid.split('dpctl/tests/')[-1]}: {DESELECTED[_key(item)]}")
