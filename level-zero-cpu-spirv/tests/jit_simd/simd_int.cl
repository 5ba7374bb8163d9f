// Integer arithmetic of every width per lane: wrap-around, division (by non-zero divisors,
// not MIN / -1), shifts by lane-dependent amounts (OpenCL C takes the amount modulo the
// promoted width: amounts of 0 to 255 here), signed and unsigned compares, the integer
// built-ins, selects with vector conditions, and mixed 32/64-bit index arithmetic.

#define INT_OPS(T, UT, T4, NAME)                                                             \
    __kernel void NAME(__global const T *xs, __global const T *ys, __global T *out) {        \
        size_t g = get_global_id(0) - get_global_offset(0);                                  \
        int sh = (int)get_global_id(0);                                                      \
        T x = xs[g], y = ys[g];                                                              \
        T d = (y == 0 || (x == (T)((UT)1 << (sizeof(T) * 8 - 1)) && y == (T)-1)) ? (T)3 : y; \
        __global T *o = out + g * 40;                                                        \
        o[0] = x + y;                                                                        \
        o[1] = x - y;                                                                        \
        o[2] = x * y;                                                                        \
        o[3] = x / d;                                                                        \
        o[4] = x % (T)((d & 0x7f) | 2);                                                      \
        o[5] = x << sh;                                                                      \
        o[6] = x >> sh;                                                                      \
        o[7] = x << (y & 63);                                                                \
        o[8] = x >> (UT)y;                                                                   \
        o[9] = (T)((x < y) | (x <= y) << 1 | (x > y) << 2 | (x >= y) << 3 | (x == y) << 4 |  \
                   (x != y) << 5 | ((UT)x < (UT)y) << 6);                                    \
        o[10] = min(x, y);                                                                   \
        o[11] = max(x, y);                                                                   \
        o[12] = (T)abs(x);                                                                   \
        o[13] = (T)abs_diff(x, y);                                                           \
        o[14] = clamp(x, min(y, (T)3), max(y, (T)3));                                        \
        o[15] = mul_hi(x, y);                                                                \
        o[16] = rotate(x, (T)sh);                                                            \
        o[17] = rotate(x, y);                                                                \
        o[18] = popcount(x);                                                                 \
        o[19] = clz(x);                                                                      \
        o[20] = add_sat(x, y);                                                               \
        o[21] = sub_sat(x, y);                                                               \
        o[22] = hadd(x, y);                                                                  \
        o[23] = rhadd(x, y);                                                                 \
        o[24] = mad_hi(x, y, (T)sh);                                                         \
        o[25] = mad_sat(x, y, (T)sh);                                                        \
        o[26] = ~x & (y | (T)sh);                                                            \
        o[27] = -x;                                                                          \
        o[28] = !x + (x && y) * 2;                                                           \
        o[29] = (x & 1) ? x : y;                                                             \
        T4 a = (T4)(x, y, (T)(x ^ y), (T)sh);                                                \
        T4 b = (T4)(y, (T)sh, x, (T)(x + y));                                                \
        T4 c = select(a, b, a < b);                                                          \
        T4 e = a > b ? a : b;                                                                \
        T4 f = select(b, a, (T4)(x, y, (T)-1, (T)0));                                        \
        o[30] = c.x ^ c.y ^ c.z ^ c.w;                                                       \
        o[31] = c.y;                                                                         \
        o[32] = e.x + e.y * 3 + e.z * 5 + e.w * 7;                                           \
        o[33] = f.x ^ f.y ^ f.z ^ f.w;                                                       \
        T4 s4 = a << b;                                                                      \
        T4 r4 = a >> (b & (T4)(7));                                                          \
        o[34] = s4.x ^ s4.y ^ s4.z ^ s4.w;                                                   \
        o[35] = r4.x + r4.y + r4.z + r4.w;                                                   \
        o[36] = (T)any(a < b) + (T)all(a >= b) * 2;                                          \
        o[37] = sh < 64 ? (T)(x << (sh & 7)) : (T)(x >> (sh & 7));                           \
        o[38] = (T)(UT)((UT)x * (UT)sh + (UT)y);                                             \
        o[39] = (T)((ulong)(long)x * (ulong)sh - (ulong)(long)y);                                           \
    }

INT_OPS(char, uchar, char4, int_char)
INT_OPS(uchar, uchar, uchar4, int_uchar)
INT_OPS(short, ushort, short4, int_short)
INT_OPS(ushort, ushort, ushort4, int_ushort)
INT_OPS(int, uint, int4, int_int)
INT_OPS(uint, uint, uint4, int_uint)
INT_OPS(long, ulong, long4, int_long)
INT_OPS(ulong, ulong, ulong4, int_ulong)

// 24-bit multiplies (operands sign- or zero-extended from 24 bits) and index
// arithmetic mixing size_t, int and long: negative ints converted to size_t, 64-bit
// products truncated to 32 bits, shifts across the 32-bit boundary.
__kernel void int_mixed(__global const int *xs, __global long *out) {
    size_t g = get_global_id(0);
    size_t i = g - get_global_offset(0);
    int x = xs[i];
    int x24 = (x << 8) >> 8;
    uint u24 = (uint)x & 0xffffff;
    int gi = (int)g;
    __global long *o = out + i * 16;
    o[0] = mul24(x24, gi - 100);
    o[1] = mad24(x24, x24, gi);
    o[2] = mul24(u24, (uint)g);
    o[3] = mad24(u24, 255u, (uint)x);
    // (upsample: the engine refuses OpenCL.std u_upsample/s_upsample at build time.)
    o[4] = (int)(((uint)(ushort)(short)x << 16) | (ushort)g);
    o[5] = (long)(((ulong)(uint)(gi - 5) << 32) | (uint)x);
    o[6] = (long)(size_t)(gi - 300);
    o[7] = (long)(int)(g * 0x9E3779B9u);
    o[8] = (long)((g << 33) >> 33) + (long)((long)x << 31);
    o[9] = (long)((size_t)x * g);
    o[10] = (long)((uint)x * (uint)g) + (long)(int)((ulong)x >> 3);
    o[11] = (long)(x / (gi | 1)) + (long)((uint)x % (uint)(gi + 1));
    o[12] = (long)(ulong)(uint)(gi - 7) - (long)(char)(x >> 5);
    o[13] = (long)((long)gi * (long)x >> 7);
    o[14] = (long)(ushort)(x + gi) * (long)(short)(x - gi);
    o[15] = (long)(g - i) * 1000 + (long)get_global_size(0);
}
