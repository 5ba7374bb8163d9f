// Integer arithmetic of every width: for each type T, out[i*16 + k] = op_k(a[i], b[i]).
// b[i] is never 0 (division); shift counts are taken modulo the width by OpenCL.
#define INT_OPS(T)                                                                            \
    __kernel void int_ops_##T(__global const T *a, __global const T *b, __global T *out) {   \
        size_t i = get_global_id(0);                                                          \
        T x = a[i], y = b[i];                                                                 \
        __global T *o = out + i * 16;                                                         \
        o[0] = x + y;                                                                         \
        o[1] = x - y;                                                                         \
        o[2] = x * y;                                                                         \
        o[3] = x / y;                                                                         \
        o[4] = x % (T)(y | 1); /* not `x % y`: -O2 pairs it with x / y using LLVM freeze */   \
        o[5] = x & y;                                                                         \
        o[6] = x | y;                                                                         \
        o[7] = x ^ y;                                                                         \
        o[8] = ~x;                                                                            \
        o[9] = -x;                                                                            \
        o[10] = x << (y & 7);                                                                 \
        o[11] = x >> (y & 7);                                                                 \
        o[12] = (T)(x < y);                                                                   \
        o[13] = (T)(x >= y);                                                                  \
        o[14] = (T)(x == y);                                                                  \
        o[15] = (T)(x * 3 + 7);                                                               \
    }
INT_OPS(char)
INT_OPS(uchar)
INT_OPS(short)
INT_OPS(ushort)
INT_OPS(int)
INT_OPS(uint)
INT_OPS(long)
INT_OPS(ulong)
