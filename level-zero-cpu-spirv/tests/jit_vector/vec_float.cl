// Floats under the vector path: fma and mad, compares ordered and unordered with NaNs and
// signed zeros, NaN payloads through arithmetic, conversions, per-lane math built-ins.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

// a, b, c: N floats each; out: 16 N ints.
__kernel void flt_ops(__global const float *a, __global const float *b, __global const float *c,
                      __global int *out, float u) {
    size_t N = total(), i = lin();
    float x = a[i], y = b[i], z = c[i];
    out[i] = as_int(fma(x, y, z));
    out[N + i] = as_int(mad(x, y, z));
    out[2 * N + i] = as_int(x + y);
    out[3 * N + i] = as_int(y - x);
    out[4 * N + i] = as_int(x * y);
    out[5 * N + i] = as_int(x / y);
    out[6 * N + i] = as_int(fma(x, u, z));
    out[7 * N + i] = as_int(fma(u, y, x));
    out[8 * N + i] = (x < y) | (x <= y) << 1 | (x > y) << 2 | (x >= y) << 3 | (x == y) << 4 |
                     (x != y) << 5;
    out[9 * N + i] = isless(x, z) | isgreater(x, z) << 1 | islessgreater(x, z) << 2 |
                     isunordered(x, z) << 3 | isordered(x, z) << 4 | isnan(z) << 5;
    out[10 * N + i] = !(x < y) | !(x >= z) << 1 | (x == u) << 2 | (u != y) << 3;
    out[11 * N + i] = (int)x + (int)(y * 100.0f);
    out[12 * N + i] = as_int((float)(int)z) ^ as_int(convert_float((uint)i));
    out[13 * N + i] = as_int(sqrt(fabs(x)) + sin(y));
    out[14 * N + i] = as_int(fmin(x, y)) ^ as_int(fmax(z, u));
    out[15 * N + i] = as_int(x < y ? x : z);
}

// The same in double. a, b, c: N doubles; out: 12 N longs.
__kernel void dbl_ops(__global const double *a, __global const double *b,
                      __global const double *c, __global long *out, double u) {
    size_t N = total(), i = lin();
    double x = a[i], y = b[i], z = c[i];
    out[i] = as_long(fma(x, y, z));
    out[N + i] = as_long(mad(x, y, z));
    out[2 * N + i] = as_long(x + y);
    out[3 * N + i] = as_long(y - x);
    out[4 * N + i] = as_long(x * y);
    out[5 * N + i] = as_long(x / y);
    out[6 * N + i] = (x < y) | (x <= y) << 1 | (x > y) << 2 | (x >= y) << 3 | (x == y) << 4 |
                     (x != y) << 5;
    out[7 * N + i] = isless(x, z) | isunordered(x, z) << 1 | isnan(z) << 2 | (x == u) << 3;
    out[8 * N + i] = (long)x + (long)(float)y;
    out[9 * N + i] = as_long((double)(long)z) ^ as_long((double)i);
    out[10 * N + i] = as_long(fma(x, u, z)) ^ as_long(exp(y * 0.001));
    out[11 * N + i] = as_long(x < y ? x : z);
}

// A float loop with a per-lane exit (convergence), then a store.
__kernel void flt_loop(__global const float *a, __global float *out) {
    size_t i = lin();
    float x = fabs(a[i]) + 1.0f;
    float r = x;
    int k = 0;
    while (k < 40 && fabs(r * r - x) > 1e-3f * x) {
        r = 0.5f * (r + x / r);
        k++;
    }
    out[i] = r + (float)k;
}

// degrees, radians, rsqrt and recip in every lane, float and double: vector forms of one or
// two exact operations (x * c, 1 / sqrt(x), 1 / x) with the interpreter's rounding and
// constants. a: N floats; d: N doubles; out: 4 N floats; outd: 3 N doubles.
__kernel void units(__global const float *a, __global const double *d, __global float *out,
                    __global double *outd) {
    size_t N = total(), i = lin();
    float x = a[i];
    double y = d[i];
    out[i] = degrees(x);
    out[N + i] = radians(x);
    out[2 * N + i] = rsqrt(x);
    out[3 * N + i] = native_recip(x);
    outd[i] = degrees(y);
    outd[N + i] = radians(y);
    outd[2 * N + i] = rsqrt(y);
}

// mix and clamp in every lane, float and double: vector forms composed of the operations
// the interpreter does in its order (x + (y - x) * a; fmin(fmax(x, lo), hi)), edge values
// included. a, b, c: N floats; d, e, f: N doubles; out: 2 N floats; outd: 2 N doubles.
__kernel void blend(__global const float *a, __global const float *b, __global const float *c,
                    __global const double *d, __global const double *e,
                    __global const double *f, __global float *out, __global double *outd) {
    size_t N = total(), i = lin();
    out[i] = mix(a[i], b[i], c[i]);
    out[N + i] = clamp(a[i], b[i], c[i]);
    outd[i] = mix(d[i], e[i], f[i]);
    outd[N + i] = clamp(d[i], e[i], f[i]);
}

// sign, step, fdim, maxmag, minmag and round in every lane, float and double: vector forms
// of selects between exact results. a, b: N floats; d, e: N doubles; out: 6 N floats;
// outd: 6 N doubles.
__kernel void picks(__global const float *a, __global const float *b, __global const double *d,
                    __global const double *e, __global float *out, __global double *outd) {
    size_t N = total(), i = lin();
    float x = a[i], y = b[i];
    double u = d[i], v = e[i];
    out[i] = sign(x);
    out[N + i] = step(x, y);
    out[2 * N + i] = fdim(x, y);
    out[3 * N + i] = maxmag(x, y);
    out[4 * N + i] = minmag(x, y);
    out[5 * N + i] = round(x);
    outd[i] = sign(u);
    outd[N + i] = step(u, v);
    outd[2 * N + i] = fdim(u, v);
    outd[3 * N + i] = maxmag(u, v);
    outd[4 * N + i] = minmag(u, v);
    outd[5 * N + i] = round(u);
}

// fma and mad (fused) with negated operands, float and double, in every lane: Cranelift
// makes one instruction of a multiply-add with a negated operand (vfnmadd, vfmsub), whose
// NaN need not be the one the interpreter's negation then fma give. a, b, c: N floats; d, e,
// f: N doubles; out: 8 N floats; outd: 5 N doubles.
__kernel void fused(__global const float *a, __global const float *b, __global const float *c,
                    __global const double *d, __global const double *e,
                    __global const double *f, __global float *out, __global double *outd) {
    size_t N = total(), i = lin();
    float x = a[i], y = b[i], z = c[i];
    double u = d[i], v = e[i], w = f[i];
    out[i] = fma(-x, y, z);
    out[N + i] = fma(x, -y, z);
    out[2 * N + i] = fma(x, y, -z);
    out[3 * N + i] = mad(-x, y, z);
    out[4 * N + i] = mad(x, y, -z);
    out[5 * N + i] = fma(-x, -y, -z);
    out[6 * N + i] = x * y + z;
    out[7 * N + i] = mad(x, y, z) - fma(y, x, z);
    outd[i] = fma(-u, v, w);
    outd[N + i] = fma(u, v, -w);
    outd[2 * N + i] = mad(u, -v, w);
    outd[3 * N + i] = mad(u, v, w);
    outd[4 * N + i] = u * v - w;
}
