// Math built-ins in scalar and vector forms at awkward inputs (NaN, infinities, signed
// zeros, denormals, huge and tiny values), float and double, with pointer outputs to
// private, local and global memory; native_* and half_* variants.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define NF 40
__kernel void math_scalar(__global const float *xs, __global const float *ys, __global uint *out, __global int *iout) {
    size_t i = get_global_id(0);
    float x = xs[i], y = ys[i];
    __global uint *o = out + i * NF;
    o[0] = as_uint(sqrt(x));
    o[1] = as_uint(rsqrt(x));
    o[2] = as_uint(exp(x));
    o[3] = as_uint(log(x));
    o[4] = as_uint(pow(x, y));
    o[5] = as_uint(pown(x, (int)y));
    o[6] = as_uint(powr(fabs(x), y));
    o[7] = as_uint(sin(x));
    o[8] = as_uint(cos(x));
    o[9] = as_uint(tan(x));
    o[10] = as_uint(atan2(x, y));
    o[11] = as_uint(fmod(x, y));
    o[12] = as_uint(remainder(x, y));
    // remquo, lgamma_r and ilogb are refused by the engine (h_ref_*.cl): left out here.
    o[13] = as_uint(remainder(y, x));
    iout[i * 4] = (int)i;
    int e;
    o[14] = as_uint(frexp(x, &e));
    iout[i * 4 + 1] = e;
    o[15] = as_uint(ldexp(x, (int)y));
    float ip;
    o[16] = as_uint(modf(x, &ip));
    o[17] = as_uint(ip);
    float fl;
    o[18] = as_uint(fract(x, &fl));
    o[19] = as_uint(fl);
    o[20] = as_uint(hypot(x, y));
    o[21] = as_uint(cbrt(x));
    o[22] = as_uint(erf(x));
    o[23] = as_uint(tgamma(x));
    o[24] = as_uint(lgamma(x));
    iout[i * 4 + 2] = 0;
    o[25] = as_uint(nextafter(x, y));
    o[26] = as_uint(copysign(x, y));
    o[27] = as_uint(fmin(x, y));
    o[28] = as_uint(fmax(x, y));
    o[29] = as_uint(fdim(x, y));
    o[30] = as_uint(nan((uint)i));
    o[31] = as_uint(native_sqrt(fabs(x)) + native_exp(-fabs(y)));
    o[32] = as_uint(half_sqrt(fabs(x)));
    o[33] = as_uint(native_divide(x, y) + native_recip(y));
    o[34] = as_uint(expm1(x) + log1p(fabs(y)));
    o[35] = as_uint(exp2(y) + log2(fabs(x)) + exp10(y * 0.1f) + log10(fabs(y)));
    o[36] = as_uint(asin(x) + acos(y) + atan(x));
    o[37] = as_uint(sinh(x) + cosh(y) + tanh(x) + asinh(y) + acosh(fabs(x)) + atanh(y));
    o[38] = as_uint(fma(x, y, -x) + mad(x, x, y) + maxmag(x, y) + minmag(x, y));
    o[39] = as_uint(logb(x) + rootn(x, 3) + sinpi(x) + cospi(y) + tanpi(x * 0.25f));
    iout[i * 4 + 3] = (int)logb(fabs(x) + 1.0f);
}

#define ND 16
__kernel void math_double(__global const double *xs, __global const double *ys, __global ulong *out, __global int *iout) {
    size_t i = get_global_id(0);
    double x = xs[i], y = ys[i];
    __global ulong *o = out + i * ND;
    o[0] = as_ulong(sqrt(x));
    o[1] = as_ulong(exp(x) - log(x));
    o[2] = as_ulong(pow(x, y));
    o[3] = as_ulong(fmod(x, y));
    o[4] = as_ulong(remainder(x, y));
    int q = (int)i;
    o[5] = as_ulong(remainder(y, x));
    int e;
    o[6] = as_ulong(frexp(x, &e));
    iout[i * 3] = q;
    iout[i * 3 + 1] = e;
    iout[i * 3 + 2] = (int)logb(y);
    o[7] = as_ulong(ldexp(y, e));
    o[8] = as_ulong(nextafter(x, y));
    o[9] = as_ulong(fmin(x, y) + fmax(y, x));
    o[10] = as_ulong(hypot(x, y));
    o[11] = as_ulong(cbrt(x));
    double ip;
    o[12] = as_ulong(modf(x, &ip) + ip * 0.5);
    o[13] = as_ulong(sin(x) * cos(y) + atan2(y, x));
    o[14] = as_ulong(fma(x, y, 1.0) - x * y);
    o[15] = as_ulong(copysign(fdim(x, y), y) + trunc(x) + round(y) + rint(x) + floor(-x) + ceil(y));
}

// Vector forms, with the pointer outputs in local memory (vectors) and private arrays.
__kernel void math_vector(__global const float4 *xs, __global const float4 *ys, __global float4 *out, __global int4 *iout) {
    __local float4 lip[64];
    __local int4 lexp[64];
    size_t i = get_global_id(0), l = get_local_id(0);
    float4 x = xs[i], y = ys[i];
    float4 r0 = frexp(x, &lexp[l]);
    float4 r1 = modf(x, &lip[l]);
    int4 q = convert_int4_sat(y);
    float4 r2 = remainder(x, y);
    float4 fl;
    float4 r3 = fract(y, &fl);
    float4 c;
    float4 s = sincos(x, &c);
    out[8 * i + 0] = r0 + lip[l];
    out[8 * i + 1] = r1 + r2;
    out[8 * i + 2] = r3 + fl;
    out[8 * i + 3] = s * 3.0f + c;
    out[8 * i + 4] = pow(fabs(x), y) + pown(y, (int4)(2, -1, 3, 0)) + rootn(x, (int4)(3, 2, -3, 5));
    out[8 * i + 5] = fmin(x, y) * 7.0f + fmax(x, 2.0f) + fmin(y, (float4)(NAN));
    out[8 * i + 6] = ldexp(x, (int4)(1, -200, 130, 0)) + ldexp(y, 3);
    out[8 * i + 7] = clamp(x, -1.0f, 1.0f) + mix(x, y, 0.5f) + step(y, x) + smoothstep(0.0f, 2.0f, y) + sign(x);
    iout[2 * i] = lexp[l] + convert_int4_sat(logb(y)) * 1000;
    iout[2 * i + 1] = q;
}

__kernel void math_wide(__global const float *xs, __global float *out) {
    size_t i = get_global_id(0);
    float8 x = vload8(i, xs);
    float16 y = vload16(0, xs + i);
    float8 a = sqrt(fabs(x)) + exp(-x) + log(fabs(x) + 1.0f) + atan2(x, x.s12345670);
    float16 b = hypot(y, y.sfedcba9876543210) - cbrt(y) + fmod(y, 3.0f) + copysign(1.0f, y);
    float3 c = cross(x.s012, x.s345) + normalize(x.s567) + fast_normalize(x.s123);
    vstore8(a, i, out);
    vstore16(b, i, out + 8 * get_global_size(0));
    vstore3(c, i, out + 24 * get_global_size(0));
    out[27 * get_global_size(0) + i] = distance(x.lo, x.hi) + fast_length(x.lo) + dot(y.lo.lo, y.hi.hi);
}
