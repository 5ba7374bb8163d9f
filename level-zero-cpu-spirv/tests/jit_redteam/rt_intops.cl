// Integer operations of every width, signed and unsigned: shifts by amounts >= the width
// (OpenCL takes them modulo the width), rotate, mul_hi, add_sat/sub_sat, clz, popcount,
// abs, abs_diff, hadd/rhadd, mad24/mul24, mad_hi, mad_sat, upsample, min/max, clamp.
#define OPS(T, UT, OUT, base)                                                                 \
    do {                                                                                     \
        T a = (T)x, b = (T)y;                                                                \
        UT ua = (UT)x, ub = (UT)y;                                                           \
        int sh = (int)(y & 0xff);                                                            \
        OUT[base + 0] = (long)(a << sh);                                                     \
        OUT[base + 1] = (long)(a >> sh);                                                     \
        OUT[base + 2] = (long)(ua >> sh);                                                    \
        OUT[base + 3] = (long)rotate(a, b);                                                  \
        OUT[base + 4] = (long)mul_hi(a, b);                                                  \
        OUT[base + 5] = (long)mul_hi(ua, ub);                                                \
        OUT[base + 6] = (long)add_sat(a, b);                                                 \
        OUT[base + 7] = (long)add_sat(ua, ub);                                               \
        OUT[base + 8] = (long)sub_sat(a, b);                                                 \
        OUT[base + 9] = (long)sub_sat(ua, ub);                                               \
        OUT[base + 10] = (long)clz(a);                                                       \
        OUT[base + 11] = (long)popcount(a);                                                  \
        OUT[base + 12] = (long)abs(a);                                                       \
        OUT[base + 13] = (long)abs_diff(a, b);                                               \
        OUT[base + 14] = (long)abs_diff(ua, ub);                                             \
        OUT[base + 15] = (long)hadd(a, b);                                                   \
        OUT[base + 16] = (long)rhadd(ua, ub);                                                \
        OUT[base + 17] = (long)min(a, b);                                                    \
        OUT[base + 18] = (long)max(ua, ub);                                                  \
        OUT[base + 19] = (long)clamp(a, (T)-5, (T)100);                                      \
        OUT[base + 20] = (long)(a * b);                                                      \
        OUT[base + 21] = (long)(ua * ub);                                                    \
        OUT[base + 22] = (long)(a < b) + 2 * (long)(ua < ub) + 4 * (long)(a >= b);           \
        OUT[base + 23] = (long)(a / (T)((b & 0x3f) | 1));                                  \
        OUT[base + 24] = (long)(a % (T)((b & 0x1e) | 3));                                   \
        OUT[base + 25] = (long)(ua % (UT)(ub | 1));                                        \
        OUT[base + 26] = (long)(~a ^ (b | 3));                                               \
        OUT[base + 27] = (long)(-a);                                                         \
        OUT[base + 28] = (long)mad_hi(a, b, (T)7);                                           \
        OUT[base + 29] = (long)mad_sat(a, b, (T)-3);                                         \
        OUT[base + 30] = (long)mad_sat(ua, ub, (UT)3);                                       \
        OUT[base + 31] = (long)(a & -a);                                                      \
    } while (0)

__kernel void int_ops(__global const long *xs, __global const long *ys, __global long *out) {
    int g = get_global_id(0);
    long x = xs[g], y = ys[g];
    OPS(char, uchar, out, g * 128 + 0);
    OPS(short, ushort, out, g * 128 + 32);
    OPS(int, uint, out, g * 128 + 64);
    OPS(long, ulong, out, g * 128 + 96);
}

__kernel void int24(__global const int *xs, __global const int *ys, __global int *out) {
    int g = get_global_id(0);
    int x = xs[g] & 0x7fffff, y = ys[g] % 0x400000;
    uint ux = (uint)xs[g] & 0xffffff, uy = (uint)ys[g] & 0xffffff;
    out[g * 6 + 0] = mad24(x, y, 5);
    out[g * 6 + 1] = mul24(x, y);
    out[g * 6 + 2] = (int)mad24(ux, uy, 5u);
    out[g * 6 + 3] = (int)mul24(ux, uy);
    out[g * 6 + 4] = mad_hi(x, y, xs[g]);
    out[g * 6 + 5] = (int)mul_hi(ux, (uint)ys[g]);
}

// Vector integer ops on short8/uchar16/long2/int3: shifts with vector amounts.
__kernel void int_vec(__global const int *xs, __global int *out) {
    int g = get_global_id(0);
    short8 a = (short8)(xs[g], xs[g + 1], xs[g + 2], -xs[g], 7, -32768, 32767, xs[g] >> 3);
    short8 b = (short8)(1, 15, 16, 17, 31, 33, -1, xs[g + 3]);
    short8 r = (a << b) ^ (a >> b) ^ rotate(a, b) ^ add_sat(a, b);
    uchar16 c = as_uchar16((int4)(xs[g], xs[g + 1], xs[g + 2], xs[g + 3]));
    uchar16 d = c.sfedcba9876543210;
    uchar16 e = (c >> (d & (uchar)7)) + hadd(c, d) + (uchar16)popcount(c);
    long2 l = (long2)((long)xs[g] << 40, -(long)xs[g + 1]);
    long2 m = l >> (long2)(63, 65) ^ l << (long2)(64, 1);
    int3 i3 = (int3)(xs[g], xs[g + 1], xs[g + 2]);
    int3 j3 = clz(i3) + (i3 >> (int3)(32, 33, 34)) * mul_hi(i3, (int3)(-7));
    for (int k = 0; k < 8; ++k)
        out[g * 32 + k] = r[k];
    for (int k = 0; k < 4; ++k)
        out[g * 32 + 8 + k] = as_int4(e)[k];
    out[g * 32 + 12] = (int)m.x;
    out[g * 32 + 13] = (int)(m.x >> 32);
    out[g * 32 + 14] = (int)m.y;
    out[g * 32 + 15] = (int)(m.y >> 32);
    out[g * 32 + 16] = j3.x;
    out[g * 32 + 17] = j3.y;
    out[g * 32 + 18] = j3.z;
    out[g * 32 + 19] = any(i3 < 0) + 2 * all(i3 < 0) + 4 * any(r > (short)0);
}
