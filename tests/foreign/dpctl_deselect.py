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

# test id (file::name) -> why it is deselected. Empty: the four tests that waited for
# ExpectAssumeKHR (issue 13: dpctl's test kernels raw-arg-kernel.spv,
# local_accessor_kernel_inttys_fp32.spv, work-group-memory-kernel.spv declare it) pass since
# the engine accepts the capability as a hint.
DESELECTED = {}

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
