// Local memory tiles with accumulators across barriers: tiled matrix products (TILE 8 and
// 16, int, long, float and double accumulators), a transpose through a tile for any 2-D
// group, and reductions in local memory with barriers in a loop of halving strides.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

// C = A * B (A: n x k, B: k x n, C: n x n), one TILE x TILE group per tile of C; an int
// accumulator and a long one (products of 32-bit values), saved at the two barriers of each
// step of the loop over k.
#define MATMUL_INT(NAME, TILE)                                                                \
    __kernel void NAME(__global const int *a, __global const int *b, __global int *c,        \
                       __global long *cl, int n, int k) {                                    \
        __local int ta[TILE][TILE];                                                           \
        __local int tb[TILE][TILE];                                                           \
        int lx = get_local_id(0), ly = get_local_id(1);                                       \
        int col = get_group_id(0) * TILE + lx, row = get_group_id(1) * TILE + ly;             \
        int acc = 0;                                                                          \
        long accl = -1;                                                                       \
        for (int t = 0; t < k; t += TILE) {                                                   \
            ta[ly][lx] = a[row * k + t + lx];                                                 \
            tb[ly][lx] = b[(t + ly) * n + col];                                               \
            barrier(CLK_LOCAL_MEM_FENCE);                                                     \
            for (int i = 0; i < TILE; i++) {                                                  \
                acc += ta[ly][i] * tb[i][lx];                                                 \
                accl += (long)ta[ly][i] * (long)tb[i][lx];                                    \
            }                                                                                 \
            barrier(CLK_LOCAL_MEM_FENCE);                                                     \
        }                                                                                     \
        c[row * n + col] = acc;                                                               \
        cl[row * n + col] = accl;                                                             \
    }

MATMUL_INT(mm_int8, 8)
MATMUL_INT(mm_int16, 16)

// The same with float and double accumulators (mad-shaped accumulation).
#define MATMUL_F(NAME, TILE)                                                                  \
    __kernel void NAME(__global const float *a, __global const float *b, __global float *c,  \
                       __global double *cd, int n, int k) {                                  \
        __local float ta[TILE][TILE];                                                         \
        __local float tb[TILE][TILE];                                                         \
        int lx = get_local_id(0), ly = get_local_id(1);                                       \
        int col = get_group_id(0) * TILE + lx, row = get_group_id(1) * TILE + ly;             \
        float acc = 0.0f;                                                                     \
        double accd = 0.0;                                                                    \
        for (int t = 0; t < k; t += TILE) {                                                   \
            ta[ly][lx] = a[row * k + t + lx];                                                 \
            tb[ly][lx] = b[(t + ly) * n + col];                                               \
            barrier(CLK_LOCAL_MEM_FENCE);                                                     \
            for (int i = 0; i < TILE; i++) {                                                  \
                acc += ta[ly][i] * tb[i][lx];                                                 \
                accd += (double)ta[ly][i] * (double)tb[i][lx];                                \
            }                                                                                 \
            barrier(CLK_LOCAL_MEM_FENCE);                                                     \
        }                                                                                     \
        c[row * n + col] = acc;                                                               \
        cd[row * n + col] = accd;                                                             \
    }

MATMUL_F(mm_f8, 8)
MATMUL_F(mm_f16, 16)

// A transpose of a W x H group's tile, twice, with a value of each width kept across the
// barriers.
__kernel void tl_transpose(__global const long *in, __global long *out, __local long *tile) {
    int lx = get_local_id(0), ly = get_local_id(1);
    int w = get_local_size(0), h = get_local_size(1);
    size_t g = GRP * (size_t)(w * h) + (size_t)(ly * w + lx);
    long v = in[g];
    int v32 = (int)(v >> 17);
    uint vu = (uint)v;
    tile[ly * w + lx] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int k = ly * w + lx;
    int q = k / h;
    long t1 = tile[(k - q * h) * w + q];
    barrier(CLK_LOCAL_MEM_FENCE);
    tile[k] = t1 ^ v32;
    barrier(CLK_LOCAL_MEM_FENCE);
    long t2 = tile[w * h - 1 - k];
    out[g * 3] = t1;
    out[g * 3 + 1] = t2 + vu;
    out[g * 3 + 2] = (long)v32 * (long)vu;
}

// Reductions with halving strides: the smallest power of two at least the group's size,
// halved each step (lanes below the stride with a partner in range add it); int, long with
// high bits and double partial sums; every lane reads the results after the last barrier.
__kernel void tl_reduce(__global const int *in, __global const long *inl, __global long *out,
                        __local int *si, __local long *sl, __local double *sd) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long y = inl[g];
    si[lid] = x;
    sl[lid] = y;
    sd[lid] = (double)x * 0.001 + (double)(y >> 40);
    uint p = 1;
    while (p < lsz)
        p <<= 1;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = p / 2; s > 0; s >>= 1) {
        if (lid < s && lid + s < lsz) {
            si[lid] += si[lid + s];
            sl[lid] ^= sl[lid + s] * 3;
            sd[lid] += sd[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global long *o = out + g * 4;
    o[0] = si[0] - x;
    o[1] = sl[0] + y;
    o[2] = as_long(sd[0]);
    o[3] = (long)p;
}

// The classic power-of-two reduction: strides lsz/2, lsz/4, ..., with the stride and a
// per-lane running value (uint >= 2^31, long) live across every barrier.
__kernel void tl_reduce_pow2(__global const int *in, __global long *out, __local uint *s) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    uint v = (uint)in[g] | 0x80000000u;
    long run = -(long)v;
    s[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint st = lsz / 2; st > 0; st >>= 1) {
        if (lid < st)
            s[lid] += s[lid + st];
        barrier(CLK_LOCAL_MEM_FENCE);
        run = run * 3 + s[lid % st + (lid & 1)];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[g * 2] = s[0];
    out[g * 2 + 1] = run;
}
