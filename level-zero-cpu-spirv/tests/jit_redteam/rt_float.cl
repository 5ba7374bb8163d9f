// float/double arithmetic and comparisons with NaN (several payloads), infinities, signed
// zeros and denormals; selects and ternaries on them.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void fcmp_all(__global const float *xs, __global const float *ys, __global int *out) {
    int g = get_global_id(0);
    float a = xs[g], b = ys[g];
    int r = 0;
    r |= (a == b) << 0;
    r |= (a != b) << 1;
    r |= (a < b) << 2;
    r |= (a <= b) << 3;
    r |= (a > b) << 4;
    r |= (a >= b) << 5;
    r |= isequal(a, b) << 6;
    r |= isnotequal(a, b) << 7;
    r |= isgreater(a, b) << 8;
    r |= isless(a, b) << 9;
    r |= islessgreater(a, b) << 10;
    r |= isunordered(a, b) << 11;
    r |= isordered(a, b) << 12;
    r |= isnan(a) << 13;
    r |= isinf(a) << 14;
    r |= isfinite(a) << 15;
    r |= isnormal(a) << 16;
    r |= signbit(a) << 17;
    r |= !(a < b) << 18;
    r |= !(a >= b) << 19;
    out[g] = r;
}

__kernel void farith(__global const float *xs, __global const float *ys, __global uint *out) {
    int g = get_global_id(0);
    float a = xs[g], b = ys[g];
    out[g * 12 + 0] = as_uint(a + b);
    out[g * 12 + 1] = as_uint(a - b);
    out[g * 12 + 2] = as_uint(a * b);
    out[g * 12 + 3] = as_uint(a / b);
    out[g * 12 + 4] = as_uint(b + a);
    out[g * 12 + 5] = as_uint(b * a);
    out[g * 12 + 6] = as_uint(fma(a, b, a));
    out[g * 12 + 7] = as_uint(mad(a, b, b));
    out[g * 12 + 8] = as_uint(fmin(a, b));
    out[g * 12 + 9] = as_uint(fmax(a, b));
    out[g * 12 + 10] = as_uint(a < b ? a : b);
    out[g * 12 + 11] = as_uint(-a);
}

__kernel void darith(__global const double *xs, __global const double *ys, __global ulong *out) {
    int g = get_global_id(0);
    double a = xs[g], b = ys[g];
    out[g * 10 + 0] = as_ulong(a + b);
    out[g * 10 + 1] = as_ulong(a - b);
    out[g * 10 + 2] = as_ulong(a * b);
    out[g * 10 + 3] = as_ulong(a / b);
    out[g * 10 + 4] = as_ulong(fma(a, b, a));
    out[g * 10 + 5] = as_ulong(b * a + a);
    out[g * 10 + 6] = (ulong)((a == b) | (a < b) << 1 | (a > b) << 2 | isunordered(a, b) << 3 | (a != b) << 4);
    out[g * 10 + 7] = as_ulong(a > b ? a : b);
    out[g * 10 + 8] = as_ulong(sqrt(fabs(a)));
    out[g * 10 + 9] = as_ulong((double)(float)a);
}

// A float accumulation loop whose result depends on operation order (no reassociation).
__kernel void fsum(__global const float *xs, __global float *out, int n) {
    int g = get_global_id(0);
    float s = 0.0f, c = 0.0f;
    for (int i = 0; i < n; ++i) {
        float y = xs[(g + i) % 64] * 1.0001f - c;
        float t = s + y;
        c = (t - s) - y;
        s = t;
    }
    out[g] = s;
}
