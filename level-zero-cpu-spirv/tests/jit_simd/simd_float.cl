// float and double per lane with NaNs (several payloads and signs), infinities, -0.0 and
// denormals: arithmetic (a NaN operand's payload must survive as the scalar code keeps it;
// operands must not be swapped), fma/mad, fmin/fmax (-0.0 against 0.0, NaN against a
// number), ordered and unordered comparisons, conversions with rounding and saturation
// (unsigned and 64-bit ones have no single SIMD instruction on x86), math built-ins.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define FLOAT_OPS(T, IT, UT, LT, ULT, T4, NAME)                                              \
    __kernel void NAME(__global const T *xs, __global const T *ys, __global IT *out) {       \
        size_t g = get_global_id(0) - get_global_offset(0);                                  \
        T a = xs[g], b = ys[g], c = xs[(g + 3) % get_global_size(0)];                        \
        __global IT *o = out + g * 48;                                                       \
        o[0] = as_##IT(a + b);                                                               \
        o[1] = as_##IT(a - b);                                                               \
        o[2] = as_##IT(a * b);                                                               \
        o[3] = as_##IT(a / b);                                                               \
        o[4] = as_##IT(fma(a, b, c));                                                        \
        o[5] = as_##IT(mad(a, b, c));                                                        \
        o[6] = as_##IT(fmin(a, b));                                                          \
        o[7] = as_##IT(fmax(a, b));                                                          \
        o[8] = as_##IT(fabs(a));                                                             \
        o[9] = as_##IT(-a);                                                                  \
        o[10] = as_##IT(copysign(a, b));                                                     \
        o[11] = (IT)((a == b) | (a != b) << 1 | (a < b) << 2 | (a <= b) << 3 |               \
                     (a > b) << 4 | (a >= b) << 5 | !(a < b) << 6 | !(a >= b) << 7 |         \
                     isordered(a, b) << 8 | isunordered(a, b) << 9 |                        \
                     islessgreater(a, b) << 10 | isnan(a) << 11 | isinf(a) << 12 |           \
                     isfinite(a) << 13 | isnormal(a) << 14 | signbit(a) << 15);              \
        o[12] = as_##IT(a < b ? a : b);                                                      \
        o[13] = as_##IT(a > b ? a : b);                                                      \
        o[14] = as_##IT(isnan(a) ? b : a);                                                   \
        o[15] = convert_##IT##_sat_rte(a);                                                   \
        o[16] = convert_##IT##_sat(a);                                                       \
        o[17] = convert_##IT##_sat_rtn(b);                                                   \
        o[18] = (IT)convert_##UT##_sat(a);                                                   \
        o[19] = (IT)convert_##UT##_sat_rtp(b);                                               \
        o[20] = (IT)convert_uchar_sat(a);                                                    \
        o[21] = (IT)convert_short_sat_rte(a);                                                \
        o[22] = (IT)convert_##LT##_sat(a);                                                   \
        o[23] = (IT)convert_##ULT##_sat(a);                                                  \
        o[24] = as_##IT((T)((UT)g * (UT)0x9E3779B9u));                                       \
        o[25] = as_##IT((T)((ULT)g * 0x9E3779B97F4A7C15ul));                                 \
        o[26] = as_##IT((T)(LT)((ULT)g * (ULT)-0x1234567891ll));                              \
        o[27] = as_##IT((T)(IT)(a == a && fabs(a) < (T)1e9 ? a : (T)0));                     \
        o[28] = as_##IT(sqrt(a));                                                            \
        o[29] = as_##IT(floor(a));                                                           \
        o[30] = as_##IT(ceil(b));                                                            \
        o[31] = as_##IT(rint(a));                                                            \
        o[32] = as_##IT(round(a));                                                           \
        o[33] = as_##IT(trunc(b));                                                           \
        o[34] = as_##IT(exp(fmin(a, (T)50)));                                                \
        o[35] = as_##IT(log(a));                                                             \
        o[36] = as_##IT(sin(fabs(a) < (T)1e4 ? a : (T)1));                                   \
        o[37] = as_##IT(pow(fabs(a), (T)0.5));                                               \
        o[38] = as_##IT(ldexp(a, (int)(g % 300) - 150));                                     \
        int ex;                                                                              \
        o[39] = as_##IT(frexp(a, &ex));                                                      \
        o[40] = ex;                                                                          \
        T ip;                                                                                \
        o[41] = as_##IT(fract(a, &ip));                                                      \
        o[42] = as_##IT(ip);                                                                 \
        o[43] = as_##IT(fmod(a, b));                                                         \
        o[44] = as_##IT(step(b, a) + sign(a));                                               \
        o[45] = as_##IT(mix(a, b, (T)0.25));                                                 \
        T4 v = (T4)(a, b, c, a * b);                                                         \
        T4 w = (T4)(b, a, (T)g, -c);                                                         \
        T4 r = fmin(v, w) + fmax(w, v) * (T)2 + select(v, w, isless(v, w));                  \
        o[46] = as_##IT(r.x + r.y) ^ as_##IT(r.z - r.w);                                     \
        o[47] = as_##IT(v.x * w.y + v.y * w.x + v.z * w.z - v.w * w.w);                      \
    }

FLOAT_OPS(float, int, uint, long, ulong, float4, float_ops)
FLOAT_OPS(double, long, ulong, long, ulong, double4, double_ops)

// Conversions of integers to floating point per lane: uint and ulong above 2^31/2^63 (x86
// has no unsigned SIMD conversion), long to float (double rounding if done via double),
// with every rounding mode.
__kernel void int_to_float(__global const ulong *xs, __global uint *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    ulong x = xs[g];
    uint u = (uint)x;
    int i = (int)x;
    __global uint *o = out + g * 16;
    o[0] = as_uint((float)u);
    o[1] = as_uint((float)i);
    o[2] = as_uint((float)x);
    o[3] = as_uint((float)(long)x);
    o[4] = as_uint(convert_float_rtz(u));
    o[5] = as_uint(convert_float_rtp(i));
    o[6] = as_uint(convert_float_rtn(x));
    o[7] = as_uint(convert_float_rte((long)x));
    double d = (double)x;
    double e = (double)(long)x;
    o[8] = (uint)as_ulong(d);
    o[9] = (uint)(as_ulong(d) >> 32);
    o[10] = (uint)(as_ulong(e) >> 32);
    o[11] = (uint)(as_ulong((double)u) >> 32);
    o[12] = as_uint(convert_float(convert_double_rtz(x)));
    o[13] = (uint)(convert_ulong_sat(d) >> 40);
    o[14] = (uint)convert_uint_sat_rte((float)x);
    o[15] = (uint)convert_int_sat_rtz((float)i * 1.5f);
}
