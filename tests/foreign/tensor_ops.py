"""Intel's SYCL tensor library (dpnp.tensor, formerly dpctl.tensor) on the CPU driver.

Run by .ci/sycl under the private sid runtime, like sycl_smoke.py, with dpnp 0.20.0 on the
path (installed with `pip install --no-deps`: `import dpnp` itself needs oneMKL, so a bare
`dpnp` package module is put in sys.modules and only `dpnp.tensor` is imported).

Every operation runs on the default SYCL device (our driver's level_zero:gpu:0) and is
compared against numpy:

- exactly, for integers, booleans, copies, comparisons, conversions, and the IEEE
  operations that are correctly rounded (+, -, *, /, sqrt of float64); sums, products,
  cumulative sums and matrix products use integer-valued floats whose partial sums are
  exact whatever the order of evaluation, so they are compared exactly too;
- within a documented number of units in the last place (ULP_TOLERANCE) for the math
  functions OpenCL allows to be inexact (exp, float32 sqrt).

Each operation ends as one of:
  pass      built, ran, and the result is right;
  xfail     failed to build for the reason EXPECTED_FAILURES gives it (an issue-13 feature
            the engine does not implement yet: the build log names it);
  WRONG     built and ran, with a wrong result (the worst bug there is);
  FAIL      failed otherwise (an unexpected failure, a failure with another reason, or an
            expected failure that now passes: remove it from EXPECTED_FAILURES).
Exit status 0 only if every operation is pass or xfail. A table of all results is printed.
Run one operation (or several) by name: `tensor_ops.py add_i32 sum_f32`.
"""

import importlib.util
import sys
import traceback
import types
from fractions import Fraction

import numpy as np

_spec = importlib.util.find_spec("dpnp")
if _spec is None or not _spec.submodule_search_locations:
    sys.exit("tensor_ops.py: dpnp (0.20.0, --no-deps) is not on the path")
_pkg = types.ModuleType("dpnp")
_pkg.__path__ = list(_spec.submodule_search_locations)
sys.modules["dpnp"] = _pkg

import dpnp.tensor as dpt  # noqa: E402

# The queue every array here is allocated on and every operation runs on (dpnp.tensor's
# cached default queue; `d` checks that it stays the same).
_QUEUE = dpt.empty(1).sycl_queue

# operation -> the text its build failure must contain (features the engine does not
# implement yet; empty since issue 13 brought work-group and sub-group collectives and float
# atomics).
EXPECTED_FAILURES = {}

# Units in the last place allowed where OpenCL allows inexact results (OpenCL C 1.2, 7.4:
# exp 3 ulp, float sqrt 3 ulp); numpy's own results are within 1 ulp or so.
ULP_TOLERANCE = 4

N = 1003  # not a multiple of any vector width or work-group size: tails are exercised

rng = np.random.default_rng(13)
I32 = rng.integers(-1000, 1000, N, dtype=np.int32)
I32B = rng.integers(-1000, 1000, N, dtype=np.int32)
I32B[I32B == 0] = 7  # divisors
F32 = rng.standard_normal(N).astype(np.float32) * 10
F32B = rng.standard_normal(N).astype(np.float32) * 10
F64 = rng.standard_normal(N) * 10
F64B = rng.standard_normal(N) * 10
# Integer-valued floats: every partial sum of N of them is exact in float32 (< 2**24).
F32I = rng.integers(-100, 100, N).astype(np.float32)
F64I = rng.integers(-100, 100, N).astype(np.float64)


def d(a):
    x = dpt.asarray(a)
    assert x.sycl_queue == _QUEUE, "dpnp.tensor's default queue changed"
    return x


def h(x):
    return dpt.asnumpy(x)


OPS = {}


def op(name, tol=None):
    """Registers `f() -> (numpy result, dpnp.tensor result)`; `tol`: None for exact, or
    "ulp" for ULP_TOLERANCE."""

    def register(f):
        OPS[name] = (f, tol)
        return f

    return register


# Elementwise arithmetic.
for _t, _a, _b in (("i32", I32, I32B), ("f32", F32, F32B), ("f64", F64, F64B)):

    def _mk(a, b):
        op(f"add_{_t}")(lambda: (a + b, dpt.add(d(a), d(b))))
        op(f"subtract_{_t}")(lambda: (a - b, dpt.subtract(d(a), d(b))))
        op(f"multiply_{_t}")(lambda: (a * b, dpt.multiply(d(a), d(b))))
        op(f"maximum_{_t}")(lambda: (np.maximum(a, b), dpt.maximum(d(a), d(b))))
        op(f"negative_{_t}")(lambda: (-a, dpt.negative(d(a))))
        op(f"abs_{_t}")(lambda: (np.abs(a), dpt.abs(d(a))))
        op(f"square_{_t}")(lambda: (a * a, dpt.square(d(a))))
        # Broadcasting: (N, 1) with (1, 7), and a scalar.
        op(f"add_broadcast_{_t}")(
            lambda: (
                a[:, None] + b[None, :7],
                dpt.add(d(a)[:, None], d(b)[None, :7]),
            )
        )
        op(f"multiply_scalar_{_t}")(lambda: (a * a.dtype.type(3), dpt.multiply(d(a), 3)))
        # Strided (non-contiguous) operands.
        op(f"add_strided_{_t}")(
            lambda: (a[::2][:300] + b[::3][:300], dpt.add(d(a)[::2][:300], d(b)[::3][:300]))
        )

    _mk(_a, _b)

op("divide_f32")(lambda: (F32 / F32B, dpt.divide(d(F32), d(F32B))))
op("divide_f64")(lambda: (F64 / F64B, dpt.divide(d(F64), d(F64B))))
op("floor_divide_i32")(lambda: (I32 // I32B, dpt.floor_divide(d(I32), d(I32B))))
op("remainder_i32")(lambda: (I32 % I32B, dpt.remainder(d(I32), d(I32B))))
op("bitwise_and_i32")(lambda: (I32 & I32B, dpt.bitwise_and(d(I32), d(I32B))))
op("left_shift_i32")(
    lambda: (
        np.left_shift(I32, np.abs(I32B) % 31),
        dpt.bitwise_left_shift(d(I32), d(np.abs(I32B) % 31)),
    )
)

# Unary math.
op("exp_f32", "ulp")(lambda: (np.exp(F32 / 10), dpt.exp(d(F32 / 10))))
op("exp_f64", "ulp")(lambda: (np.exp(F64 / 10), dpt.exp(d(F64 / 10))))
op("sqrt_f32", "ulp")(lambda: (np.sqrt(np.abs(F32)), dpt.sqrt(d(np.abs(F32)))))
op("sqrt_f64")(lambda: (np.sqrt(np.abs(F64)), dpt.sqrt(d(np.abs(F64)))))
op("floor_f64")(lambda: (np.floor(F64), dpt.floor(d(F64))))
op("trunc_f32")(lambda: (np.trunc(F32), dpt.trunc(d(F32))))
op("round_f64")(lambda: (np.round(F64 * 3), dpt.round(d(F64 * 3))))
op("sign_f64")(lambda: (np.sign(F64), dpt.sign(d(F64))))
op("copysign_f32")(lambda: (np.copysign(F32, F32B), dpt.copysign(d(F32), d(F32B))))
op("nextafter_f64")(lambda: (np.nextafter(F64, F64B), dpt.nextafter(d(F64), d(F64B))))
op("isnan_f32")(
    lambda: (
        np.isnan(np.where(I32 > 500, np.float32("nan"), F32)),
        dpt.isnan(d(np.where(I32 > 500, np.float32("nan"), F32))),
    )
)
op("log_f64", "ulp")(lambda: (np.log(np.abs(F64) + 1e-3), dpt.log(d(np.abs(F64) + 1e-3))))
op("sin_f32", "ulp")(lambda: (np.sin(F32 / 4), dpt.sin(d(F32 / 4))))
op("pow_f64", "ulp")(
    lambda: (np.power(np.abs(F64) / 5, F64B / 10), dpt.pow(d(np.abs(F64) / 5), d(F64B / 10)))
)
op("hypot_f32", "ulp")(lambda: (np.hypot(F32, F32B), dpt.hypot(d(F32), d(F32B))))
op("left_shift_i64")(lambda: (I32.astype(np.int64) << 20, dpt.bitwise_left_shift(d(I32.astype(np.int64)), 20)))
op("multiply_u8")(
    lambda: (
        I32.astype(np.uint8) * I32B.astype(np.uint8),
        dpt.multiply(d(I32.astype(np.uint8)), d(I32B.astype(np.uint8))),
    )
)
op("right_shift_i16")(
    lambda: (I32.astype(np.int16) >> 3, dpt.bitwise_right_shift(d(I32.astype(np.int16)), 3))
)
op("add_f16")(
    lambda: (
        F32.astype(np.float16) + F32B.astype(np.float16),
        dpt.add(d(F32.astype(np.float16)), d(F32B.astype(np.float16))),
    )
)
op("add_3d_broadcast_f64")(
    lambda: (
        F64[:24].reshape(2, 3, 4) + F64B[:4],
        dpt.add(dpt.reshape(d(F64[:24]), (2, 3, 4)), d(F64B[:4])),
    )
)

# Comparisons and where.
op("less_i32")(lambda: (I32 < I32B, dpt.less(d(I32), d(I32B))))
op("equal_f32")(lambda: (F32 == F32[::-1], dpt.equal(d(F32), d(F32[::-1].copy()))))
op("greater_equal_f64")(lambda: (F64 >= 0, dpt.greater_equal(d(F64), 0.0)))
op("where_f32")(lambda: (np.where(F32 > 0, F32, F32B), dpt.where(d(F32 > 0), d(F32), d(F32B))))
op("where_i32_broadcast")(
    lambda: (
        np.where(I32[:, None] > 0, I32[:, None], I32B[None, :5]),
        dpt.where(d(I32)[:, None] > 0, d(I32)[:, None], d(I32B)[None, :5]),
    )
)
op("logical_and")(
    lambda: (np.logical_and(I32 > 0, F32 > 0), dpt.logical_and(d(I32 > 0), d(F32 > 0)))
)

# Conversions (C semantics: float -> int truncates; in range here).
op("astype_f32_i32")(lambda: (F32.astype(np.int32), dpt.astype(d(F32), dpt.int32)))
op("astype_i32_f64")(lambda: (I32.astype(np.float64), dpt.astype(d(I32), dpt.float64)))
op("astype_f64_f32")(lambda: (F64.astype(np.float32), dpt.astype(d(F64), dpt.float32)))
op("astype_i32_bool")(lambda: (I32.astype(bool), dpt.astype(d(I32), dpt.bool)))

# Constructors and copies.
op("arange_i32")(lambda: (np.arange(5, N, 3, dtype=np.int32), dpt.arange(5, N, 3, dtype="i4")))
op("full_f64")(lambda: (np.full((7, 9), 2.5), dpt.full((7, 9), 2.5, dtype="f8")))
op("eye_f32")(lambda: (np.eye(9, 7, k=1, dtype=np.float32), dpt.eye(9, 7, k=1, dtype="f4")))


def _fma(a, b, c):
    """fma(a, b, c) of float64s, rounded once (exact rational arithmetic)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _linspace(start, stop, num):
    # dpnp.tensor's formula (LinearSequenceAffineFunctor, endpoint included): with
    # w = (n-i)/n and wc = i/n in double, fma(stop, wc, fma(start, w, 0)). OpenCL's fma is
    # correctly rounded, so the result is exact; numpy's start + i*step differs in the last
    # place for some i.
    n = num - 1
    return np.array([_fma(stop, i / n, _fma(start, (n - i) / n, 0.0)) for i in range(num)])


op("linspace_f64")(lambda: (_linspace(-3.0, 5.0, 101), dpt.linspace(-3.0, 5.0, 101, dtype="f8")))
op("transpose_copy_i32")(
    lambda: (
        I32[:1000].reshape(40, 25).T.copy(),
        dpt.copy(dpt.permute_dims(dpt.reshape(d(I32[:1000]), (40, 25)), (1, 0))),
    )
)
op("concat_f32")(lambda: (np.concatenate([F32, F32B]), dpt.concat([d(F32), d(F32B)])))
op("flip_i32")(lambda: (I32[::-1], dpt.flip(d(I32))))
op("roll_i32")(lambda: (np.roll(I32, 17), dpt.roll(d(I32), 17)))
op("repeat_i32")(lambda: (np.repeat(I32[:50], 3), dpt.repeat(d(I32[:50]), 3)))
op("tile_f32")(lambda: (np.tile(F32[:30], 3), dpt.tile(d(F32[:30]), 3)))
op("triu_f64")(
    lambda: (np.triu(F64[:900].reshape(30, 30)), dpt.triu(dpt.reshape(d(F64[:900]), (30, 30))))
)
op("clip_f32")(lambda: (np.clip(F32, -5, 5), dpt.clip(d(F32), -5.0, 5.0)))

# Reductions (integer-valued floats: exact in any order).
op("sum_i32")(lambda: (np.sum(I32), dpt.sum(d(I32))))
op("sum_f32")(lambda: (np.sum(F32I), dpt.sum(d(F32I))))
op("sum_f64_axis0")(
    lambda: (
        np.sum(F64I[:1000].reshape(40, 25), axis=0),
        dpt.sum(dpt.reshape(d(F64I[:1000]), (40, 25)), axis=0),
    )
)
op("max_f32")(lambda: (np.max(F32), dpt.max(d(F32))))
op("min_i32")(lambda: (np.min(I32), dpt.min(d(I32))))
op("argmax_f64")(lambda: (np.argmax(F64), dpt.argmax(d(F64))))
op("prod_i32")(lambda: (np.prod(I32[:20] % 5 + 1), dpt.prod(d(I32[:20] % 5 + 1))))
op("any_bool")(lambda: (np.any(I32 > 990), dpt.any(d(I32 > 990))))
op("count_nonzero_i32")(lambda: (np.count_nonzero(I32 > 0), dpt.count_nonzero(d(I32 > 0))))

# Scans.
op("cumulative_sum_i32")(lambda: (np.cumsum(I32), dpt.cumulative_sum(d(I32))))
op("cumulative_sum_f32")(lambda: (np.cumsum(F32I), dpt.cumulative_sum(d(F32I))))

# Indexing.
IDX = rng.integers(0, N, 300)
op("take_f32")(lambda: (F32[IDX], dpt.take(d(F32), d(IDX))))
op("take_i32_axis1")(
    lambda: (
        I32[:1000].reshape(40, 25)[:, [3, 0, 24, 3]],
        dpt.take(dpt.reshape(d(I32[:1000]), (40, 25)), d(np.array([3, 0, 24, 3])), axis=1),
    )
)


def _put():
    a = F64.copy()
    idx = np.array([5, 0, N - 1, 17])
    vals = np.array([1.5, -2.5, 3.5, 4.5])
    a[idx] = vals
    x = d(F64)
    dpt.put(x, d(idx), d(vals))
    return a, x


op("put_f64")(_put)
op("boolean_mask_i32")(lambda: (I32[I32 > 0], d(I32)[d(I32 > 0)]))
op("nonzero_i32")(lambda: (np.nonzero(I32 > 500)[0], dpt.nonzero(d(I32 > 500))[0]))

# Sorting and searching.
op("sort_f32_small")(lambda: (np.sort(F32[:100]), dpt.sort(d(F32[:100]))))
op("sort_f32")(lambda: (np.sort(F32), dpt.sort(d(F32))))
op("sort_i32_large")(
    lambda: (np.sort(np.tile(I32, 20)), dpt.sort(d(np.tile(I32, 20))))
)
op("argsort_i32")(
    lambda: (np.argsort(I32, kind="stable"), dpt.argsort(d(I32), stable=True))
)
op("searchsorted_f64")(
    lambda: (np.searchsorted(np.sort(F64), F64B), dpt.searchsorted(d(np.sort(F64)), d(F64B)))
)
op("unique_values_i32")(lambda: (np.unique(I32 % 50), dpt.unique_values(d(I32 % 50))))

# Linear algebra (integer-valued floats: exact).
_A = F32I[:1000].reshape(40, 25)
_B = F32I[3:503].reshape(25, 20)
op("matmul_f32")(lambda: (_A @ _B, dpt.matmul(d(_A), d(_B))))
op("matmul_i32")(
    lambda: (
        _A.astype(np.int32) @ _B.astype(np.int32),
        dpt.matmul(d(_A.astype(np.int32)), d(_B.astype(np.int32))),
    )
)
op("vecdot_f64")(lambda: (np.dot(F64I, F64I[::-1]), dpt.vecdot(d(F64I), d(F64I[::-1].copy()))))
op("tensordot_f64")(
    lambda: (
        np.tensordot(_A.astype(np.float64), _B.astype(np.float64), axes=1),
        dpt.tensordot(d(_A.astype(np.float64)), d(_B.astype(np.float64)), axes=1),
    )
)


def compare(expected, got, tol):
    """None if `got` (numpy) matches `expected`; else what differs."""
    expected = np.asarray(expected)
    got = np.asarray(got)
    if expected.shape != got.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if expected.dtype.kind != got.dtype.kind:
        return f"dtype {got.dtype}, expected {expected.dtype}"
    if expected.dtype.kind == "f":
        expected = expected.astype(got.dtype)
    if tol == "ulp":
        ulps = np.abs(got.astype(np.float64) - expected.astype(np.float64)) / np.spacing(
            np.abs(expected).astype(got.dtype)
        ).astype(np.float64)
        bad = np.flatnonzero(~(ulps <= ULP_TOLERANCE))
    else:
        # Exact, bit for bit (NaNs are not expected in these inputs).
        bad = np.flatnonzero(expected.ravel() != got.ravel())
    if bad.size == 0:
        return None
    k = bad[0]
    return (
        f"{bad.size} of {expected.size} elements differ; first at flat index {k}: "
        f"got {got.ravel()[k]!r}, expected {expected.ravel()[k]!r}"
    )


def reason_of(exc):
    """The line of a build failure that says what the engine refused, or the first line."""
    text = str(exc)
    for line in text.splitlines():
        if "unsupported" in line or "invalid SPIR-V" in line:
            return line.split(" (this engine runs")[0].strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def run(name):
    f, tol = OPS[name]
    expected = EXPECTED_FAILURES.get(name)
    try:
        want, x = f()
        got = h(x) if isinstance(x, dpt.usm_ndarray) else np.asarray(x)
    except Exception as e:  # noqa: BLE001 (every failure is classified and reported)
        # Let the failed operation's queued work finish while its arrays are still alive.
        # dpnp.tensor's `_dot` (matmul, tensordot, vecdot) submits a zero-fill of its output
        # and then the kernel; when the kernel cannot be built it raises without handing the
        # fill's event to the order manager, and the output's USM block goes back to Unified
        # Runtime's pool (a pool free: no driver call) as soon as the exception is dropped —
        # with the fill still pending. The next operation's input then got that block, and
        # the stale fill zeroed 32 rows of `matmul_i32`'s input about once in 15 runs (with
        # copy engines on, where the input's copy and the fill run on different engines).
        # The traceback holds the failed call's frames, so its arrays live until this wait.
        _QUEUE.wait()
        reason = reason_of(e)
        if expected is not None and expected in reason:
            return "xfail", reason
        if expected is not None:
            return "FAIL", f"failed for another reason than `{expected}`: {reason}"
        if "unsupported" not in reason and "invalid SPIR-V" not in reason:
            traceback.print_exc()
        return "FAIL", reason
    problem = compare(want, got, tol)
    if problem is not None:
        return "WRONG", problem
    if expected is not None:
        return "FAIL", f"passes now: remove it from EXPECTED_FAILURES (`{expected}`)"
    return "pass", ""


def main(names):
    unknown = [n for n in names if n not in OPS]
    if unknown:
        sys.exit(f"unknown operations: {', '.join(unknown)} (known: {', '.join(OPS)})")
    stale = set(EXPECTED_FAILURES) - set(OPS)
    if stale:
        sys.exit(f"EXPECTED_FAILURES names operations that do not exist: {sorted(stale)}")
    print("device:", dpt.Device.create_device(None).sycl_device)
    results = []
    for name in names or list(OPS):
        status, detail = run(name)
        results.append((name, status, detail))
        print(f"{status:<6} {name}" + (f": {detail}" if detail else ""), flush=True)
    counts = {s: sum(1 for _, st, _ in results if st == s) for s in ("pass", "xfail", "WRONG", "FAIL")}
    print("\n| operation | result | reason |\n|---|---|---|")
    for name, status, detail in results:
        print(f"| {name} | {status} | {detail} |")
    print("\n" + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0 if counts["WRONG"] == 0 and counts["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
