// build: -cl-std=CL2.0
// Integer built-ins for char/short/int/long, signed and unsigned, in scalar and vector
// forms (ctz needs OpenCL C 2.0); signed division and remainder by negative numbers; shifts
// by amounts at and above the width (masked by OpenCL); char/short arithmetic wrapping on
// conversion; upsample; 64-bit index arithmetic.

#define IOPS(T, UT, a, b, ua, ub, o)                                                        \
    o[0] = abs(a) ^ abs_diff(a, b);                                                         \
    o[1] = as_##UT(add_sat(a, b)) + as_##UT(sub_sat(a, b)) * (UT)3;                         \
    o[2] = add_sat(ua, ub) ^ sub_sat(ua, ub);                                               \
    o[3] = as_##UT(hadd(a, b)) + rhadd(ua, ub);                                             \
    o[4] = as_##UT(rhadd(a, b)) + hadd(ua, ub) * (UT)5;                                     \
    o[5] = as_##UT(clamp(a, (T)-100, (T)100)) + clamp(ua, (UT)7, (UT)200);                  \
    o[6] = as_##UT(clz(a)) + ctz(ua) * (UT)16 + as_##UT(popcount(a)) * (UT)4;               \
    o[7] = as_##UT(rotate(a, b)) ^ rotate(ua, (UT)13);                                      \
    o[8] = as_##UT(mul_hi(a, b)) + mul_hi(ua, ub);                                          \
    o[9] = as_##UT(mad_hi(a, b, a)) ^ mad_hi(ua, ub, ub);                                   \
    o[10] = as_##UT(mad_sat(a, b, (T)-7)) + mad_sat(ua, ub, (UT)9);                         \
    o[11] = as_##UT(a << b) ^ (ua >> ub) ^ as_##UT(a >> b);                                 \
    o[12] = as_##UT(max(a, b)) + min(ua, ub) + abs_diff(ua, ub);                            \
    o[13] = ua * ub + ua - ub;                                                              \
    o[14] = as_##UT(a / ((b & (T)~1) | (T)2)) + ua / (ub | (UT)1);                          \
    o[15] = as_##UT(a % ((b & (T)~1) | (T)2)) + ua % (ub | (UT)1);

__kernel void int_char16(__global const char16 *x, __global const char16 *y, __global uchar16 *out) {
    size_t i = get_global_id(0);
    char16 a = x[i], b = y[i];
    uchar16 ua = as_uchar16(a), ub = as_uchar16(b);
    __global uchar16 *o = out + i * 16;
    IOPS(char16, uchar16, a, b, ua, ub, o)
}

__kernel void int_short8(__global const short8 *x, __global const short8 *y, __global ushort8 *out) {
    size_t i = get_global_id(0);
    short8 a = x[i], b = y[i];
    ushort8 ua = as_ushort8(a), ub = as_ushort8(b);
    __global ushort8 *o = out + i * 16;
    IOPS(short8, ushort8, a, b, ua, ub, o)
}

__kernel void int_int4(__global const int4 *x, __global const int4 *y, __global uint4 *out) {
    size_t i = get_global_id(0);
    int4 a = x[i], b = y[i];
    uint4 ua = as_uint4(a), ub = as_uint4(b);
    __global uint4 *o = out + i * 16;
    IOPS(int4, uint4, a, b, ua, ub, o)
}

__kernel void int_long2(__global const long2 *x, __global const long2 *y, __global ulong2 *out) {
    size_t i = get_global_id(0);
    long2 a = x[i], b = y[i];
    ulong2 ua = as_ulong2(a), ub = as_ulong2(b);
    __global ulong2 *o = out + i * 16;
    IOPS(long2, ulong2, a, b, ua, ub, o)
}

// Scalar forms: every type in one kernel, results widened to ulong.
#define SOPS(T, UT, o)                                                                      \
    {                                                                                       \
        T a = (T)x, b = (T)y;                                                               \
        UT ua = (UT)x, ub = (UT)y;                                                          \
        o[0] = (ulong)(UT)(abs(a) ^ abs_diff(a, b));                                        \
        o[1] = (ulong)((UT)add_sat(a, b) - (UT)sub_sat(ua, ub));                            \
        o[2] = (ulong)((UT)hadd(a, b) ^ (UT)rhadd(ua, ub));                                 \
        o[3] = (ulong)(clz(a) + ctz(a) * 100 + popcount(ua) * 10000);                       \
        o[4] = (ulong)((UT)rotate(a, b) ^ (UT)mul_hi(a, b) ^ (UT)mul_hi(ua, ub));          \
        o[5] = (ulong)((UT)mad_sat(a, b, a) + (UT)mad_sat(ua, ub, ua) + (UT)mad_hi(a, b, b)); \
        o[6] = (ulong)((UT)(T)(a << b) + (UT)(T)(a >> b) + (UT)(ua >> b));                  \
        o[7] = (ulong)((b == 0 || b == -1 ? (UT)0 : (UT)(T)(a % b)) + (UT)(T)(a / (T)((b & ~1) | 4)) * 3); \
        o[8] = (ulong)((UT)clamp(a, b, (T)(b | 64)) + (UT)clamp(ua, (UT)1, (UT)(ub | 1)));  \
        o[9] = (ulong)(UT)(ua + ub) + (ulong)(UT)(ua * ub) * 3;                             \
    }

__kernel void int_scalar(__global const long *xs, __global const long *ys, __global ulong *out) {
    size_t i = get_global_id(0);
    long x = xs[i], y = ys[i];
    __global ulong *o = out + i * 48;
    SOPS(char, uchar, o)
    SOPS(short, ushort, (o + 10))
    SOPS(int, uint, (o + 20))
    SOPS(long, ulong, (o + 30))
    // upsample is refused by the engine (h_ref_upsample.cl): the same values by shifts.
    o[40] = (ulong)(ushort)(((short)(char)x << 8) | (uchar)y);
    o[41] = (ulong)(ushort)(((ushort)(uchar)x << 8) | (uchar)y);
    o[42] = (ulong)(uint)(((int)(short)x << 16) | (ushort)y);
    o[43] = (ulong)(((uint)(ushort)x << 16) | (ushort)y);
    o[44] = (ulong)(((long)(int)x << 32) | (uint)y);
    o[45] = ((ulong)(uint)x << 32) | (uint)y;
    o[46] = (ulong)mul24((int)(x << 40 >> 40), (int)(y << 40 >> 40)) + (ulong)mad24((uint)x & 0xffffff, (uint)y & 0xffffff, 3u);
    int4 u4 = convert_int4((short4)((short)x, (short)y, -1, 0)) << 16 | convert_int4((ushort4)((ushort)y, 1, 0xffff, (ushort)x));
    o[47] = as_ulong(u4.lo) ^ as_ulong(u4.hi);
}

// Division and remainder by negative numbers, shifts by large amounts, wrap of narrow types.
__kernel void int_edges(__global const int *xs, __global int *out) {
    size_t i = get_global_id(0);
    int x = xs[i];
    int d = (int)(i % 9) - 4;              // -4..4
    if (d == 0) d = -7;
    if (d == -1 && x == (int)0x80000000) d = -2;
    __global int *o = out + i * 12;
    o[0] = x / d;
    o[1] = x % (d + (d > 0 ? 1 : -1));
    o[2] = x / -3 + x % -3;
    o[3] = (x != (int)0x80000000) ? -x / 5 : 0;
    o[4] = (int)((uint)x << (int)(i + 28));           // amount taken modulo 32
    o[5] = x >> (int)(i + 30);
    o[6] = (int)((uint)x >> (uint)(i * 7));
    char c = (char)x;
    c += (char)100;
    c *= (char)3;
    o[7] = c;
    short s = (short)x;
    s = s * (short)7 - (short)30000;
    o[8] = s;
    uchar uc = (uchar)x;
    uc -= (uchar)(i * 37);
    o[9] = uc;
    long lx = (long)x << (i % 64);
    o[10] = (int)(lx >> 32) ^ (int)lx;
    o[11] = (int)(((ulong)x * 0x9e3779b97f4a7c15UL) >> (i % 64));
}

// 64-bit indices: an index computed with size_t arithmetic that wraps below zero and back.
__kernel void index64(__global const int *in, __global int *out, ulong big) {
    size_t i = get_global_id(0);
    size_t n = get_global_size(0);
    size_t back = i - big;                 // wraps
    size_t j = back + big;                 // == i
    long k = (long)i - (long)n;            // negative
    __global const int *p = in + n;
    out[j] = p[k] + (int)(back >> 40);
    uint ui = (uint)i * 0x80000001u;       // 32-bit wrap
    out[n + i] = in[ui % n] + (int)((long)ui * -3 >> 33);
}
