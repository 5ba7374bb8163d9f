// Address patterns over 4 consecutive work-items: consecutive, reversed, strided, gathered,
// the same address for all, consecutive but off by one element (unaligned for a vector of
// 4 lanes), consecutive and ending exactly at the buffer's end; stores consecutive,
// interleaved, reversed and scattered. One kernel per element type (scalars of every width,
// vectors of 2, 3 and 4 components, structs), then 2-D indexing, local and private arrays.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

// n work-items (g from 0, whatever the global offset). `in`: 3n + 2 elements; `idx`: a
// permutation of 0..n; `out`: 14 n; `out2`: 2 n; `out3`, `out4`: n.
#define ADDR(T, NAME)                                                                        \
    __kernel void NAME(__global const T *in, __global const int *idx, __global T *out,       \
                       __global T *out2, __global T *out3, __global T *out4) {               \
        int n = get_global_size(0);                                                          \
        int g = get_global_id(0) - get_global_offset(0);                                     \
        out[0 * n + g] = in[g];                                                              \
        out[1 * n + g] = in[n - 1 - g];                                                      \
        out[2 * n + g] = in[2 * g];                                                          \
        out[3 * n + g] = in[3 * g + 1];                                                      \
        out[4 * n + g] = in[idx[g]];                                                         \
        out[5 * n + g] = in[0];                                                              \
        out[6 * n + g] = in[g + 1];                                                          \
        out[7 * n + g] = in[3 * n + 1 - g];                                                  \
        out[8 * n + g] = in[g / 2];                                                          \
        out[9 * n + g] = in[g ^ 1];                                                          \
        out[10 * n + g] = in[g & ~3];                                                        \
        out[11 * n + g] = in[(g * 5) % n];                                                   \
        out[12 * n + g] = in[g + get_local_size(0)];                                         \
        out[13 * n + g] = in[2 * n + 2 + g];                                                 \
        out2[2 * g] = in[g + 2];                                                             \
        out2[2 * g + 1] = in[n - g];                                                         \
        out3[idx[g]] = in[g + 3];                                                            \
        out4[n - 1 - g] = in[get_global_id(0) - get_global_offset(0) + n];                   \
    }

ADDR(char, addr_char)
ADDR(uchar, addr_uchar)
ADDR(short, addr_short)
ADDR(int, addr_int)
ADDR(long, addr_long)
ADDR(float, addr_float)
ADDR(double, addr_double)
ADDR(char3, addr_char3)
ADDR(short2, addr_short2)
ADDR(float2, addr_float2)
ADDR(int4, addr_int4)
ADDR(float4, addr_float4)
ADDR(long2, addr_long2)
ADDR(double4, addr_double4)

typedef struct {
    char c;
    int i;
    short s;
} S12;

typedef struct __attribute__((packed)) {
    char c;
    int i;
    short s;
} P7;

ADDR(S12, addr_s12)
ADDR(P7, addr_p7)

// int3 arrays (16 bytes an element; clang loads and stores all 16, the 4th component from
// an undefined shuffle component) and vload3/vstore3 (12 bytes, unaligned for vectors).
__kernel void addr_int3(__global const int3 *in, __global const int *flat, __global int3 *out,
                        __global int *out3) {
    int n = get_global_size(0);
    int g = get_global_id(0) - get_global_offset(0);
    out[g] = in[g] + in[n - 1 - g] * 2;
    out[n + g] = in[2 * g + 1] - (int3)(g);
    int3 a = vload3(g, flat);
    int3 b = vload3(0, flat + g + 1);
    int3 c = vload3(n - 1 - g, flat);
    vstore3(a + b.zxy, g, out3);
    vstore3(c, 0, out3 + 3 * n + 3 * (n - 1 - g));
}

// Arithmetic on the loaded values of each width (promotions, wrap-around on store).
#define ADDR_ARITH(T, NAME)                                                                  \
    __kernel void NAME(__global const T *in, __global T *out) {                              \
        int n = get_global_size(0);                                                          \
        int g = get_global_id(0) - get_global_offset(0);                                     \
        T a = in[g], b = in[n - 1 - g], c = in[g + 1];                                       \
        out[4 * g + 0] = a + b;                                                              \
        out[4 * g + 1] = a * c - b;                                                          \
        out[4 * g + 2] = (a > b) ? a : c;                                                    \
        out[4 * g + 3] = a ^ b ^ (T)g;                                                       \
    }

ADDR_ARITH(char, arith_char)
ADDR_ARITH(uchar, arith_uchar)
ADDR_ARITH(short, arith_short)
ADDR_ARITH(ushort, arith_ushort)
ADDR_ARITH(long, arith_long)
ADDR_ARITH(ulong, arith_ulong)

// Misaligned pointers (the test passes buffers at byte offsets): vload/vstore of every
// width on a base that is element-aligned but not vector-aligned, and through char
// pointers at odd offsets.
__kernel void addr_misaligned(__global const float *f, __global const short *s, __global const uchar *b,
                              __global float *fo, __global short *so, __global uchar *bo) {
    int g = get_global_id(0) - get_global_offset(0);
    float4 v = vload4(g, f + 1);
    float2 w = vload2(g, f + 3);
    vstore4(v * 2.0f + (float4)(w, w), g, fo + 1);
    short8 sv = vload8(0, s + g);
    vstore8(sv + (short8)(g), g, so);
    uchar4 bv = vload4(0, b + g * 3 + 1);
    vstore4(bv.wzyx + (uchar4)(1), 0, bo + 4 * g + 3);
    bo[4 * get_global_size(0) + 3 + g] = b[g + 5] ^ b[get_global_size(0) - g];
}

// Row-major 2-D and 3-D indexing: consecutive in x when the row length is not a multiple of
// 4 (a SIMD group spans two rows), columns (stride of a row), and the transposed store.
__kernel void addr_2d(__global const int *in, __global int *out, __global int *outt) {
    int W = get_global_size(0), H = get_global_size(1), D = get_global_size(2);
    int x = get_global_id(0) - get_global_offset(0);
    int y = get_global_id(1) - get_global_offset(1);
    int z = get_global_id(2) - get_global_offset(2);
    int lin = (z * H + y) * W + x;
    int col = (z * W + x) * H + y;
    out[lin * 3 + 0] = in[lin] * 3 + in[col];
    out[lin * 3 + 1] = in[(z * H + (H - 1 - y)) * W + (W - 1 - x)];
    out[lin * 3 + 2] = in[y] + in[x] * 100 + in[z] * 10000;
    outt[col] = in[lin] - x;
}

// __local and __private arrays indexed by the lane (forwards, backwards, strided, rotated),
// of several widths, and pointers to them chosen per lane.
__kernel void addr_local_private(__global const int *in, __global int *out, __local int *dyn) {
    __local int st[256];
    __local short sh[256];
    __local long sl[256];
    int lid = get_local_id(0), lsz = get_local_size(0);
    int g = get_global_id(0);
    int x = in[g];
    st[lid] = x;
    dyn[lsz - 1 - lid] = x * 2;
    sh[lid] = (short)(x * 1001);
    sl[lid] = (long)x << 35;
    int priv[16];
    char pc[19];
    for (int i = 0; i < 16; i++)
        priv[i] = x + i * lid;
    for (int i = 0; i < 19; i++)
        pc[i] = (char)(x * i);
    priv[lid & 15] = -x;
    pc[(g * 7) % 19] = 99;
    barrier(CLK_LOCAL_MEM_FENCE);
    int r = st[lid] + st[lsz - 1 - lid] * 3 + dyn[lid] + st[(lid + 1) % lsz] * 5 + st[(2 * lid) % lsz] * 7;
    int r2 = sh[(lid ^ 1) < lsz ? lid ^ 1 : lid] + (int)(sl[(lid + lsz / 2) % lsz] >> 32);
    int *pp = (g & 1) ? priv : priv + 4;
    __local int *lp = (lid & 2) ? st : dyn;
    int r3 = pp[lid & 3] + pc[lid % 19] + pc[(lid * 3) % 19] + lp[lsz - 1 - lid];
    out[g * 3 + 0] = r;
    out[g * 3 + 1] = r2;
    out[g * 3 + 2] = r3;
}
