// Stencils through local tiles with halos: a block's local accesses at constant offsets of
// one address (a tile's row and its neighbours), reaching both ends of the local arena
// (fixed-size tiles, and a 1-D one exactly as large as the argument given), iterated with
// two barriers per step; float, int and long values carried across the barriers.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

// A (TH + 2) x (TW + 2) tile for a TW x TH group: the edges' lanes fill the halo.
#define STENCIL2D(NAME, TW, TH)                                                               \
    __kernel void NAME(__global const float *in, __global float *out, __global int *outi,   \
                       int iters) {                                                          \
        __local float t[TH + 2][TW + 2];                                                     \
        __local int ti[TH + 2][TW + 2];                                                      \
        int lx = get_local_id(0), ly = get_local_id(1);                                      \
        size_t g = GRP * (TW * TH) + (size_t)(ly * TW + lx);                                 \
        float v = in[g];                                                                     \
        int k = (int)(v * 1000.0f);                                                          \
        long acc = (long)k << 32;                                                            \
        for (int it = 0; it < iters; it++) {                                                 \
            t[ly + 1][lx + 1] = v;                                                           \
            ti[ly + 1][lx + 1] = k;                                                          \
            if (lx == 0) {                                                                   \
                t[ly + 1][0] = v * 0.5f;                                                     \
                ti[ly + 1][0] = -k;                                                          \
            }                                                                                \
            if (lx == TW - 1) {                                                              \
                t[ly + 1][TW + 1] = v * 0.25f;                                               \
                ti[ly + 1][TW + 1] = k + 1;                                                  \
            }                                                                                \
            if (ly == 0) {                                                                   \
                t[0][lx + 1] = -v;                                                           \
                ti[0][lx + 1] = k ^ 0x55;                                                    \
            }                                                                                \
            if (ly == TH - 1) {                                                              \
                t[TH + 1][lx + 1] = v + 1.0f;                                                \
                ti[TH + 1][lx + 1] = k * 3;                                                  \
            }                                                                                \
            if (lx == 0 && ly == 0) {                                                        \
                t[0][0] = 1.0f;                                                              \
                t[0][TW + 1] = 2.0f;                                                         \
                t[TH + 1][0] = 3.0f;                                                         \
                t[TH + 1][TW + 1] = 4.0f;                                                    \
                ti[0][0] = 1;                                                                \
                ti[0][TW + 1] = 2;                                                           \
                ti[TH + 1][0] = 3;                                                           \
                ti[TH + 1][TW + 1] = 4;                                                      \
            }                                                                                \
            barrier(CLK_LOCAL_MEM_FENCE);                                                    \
            v = 0.2f * (t[ly + 1][lx + 1] + t[ly][lx + 1] + t[ly + 2][lx + 1] +              \
                        t[ly + 1][lx] + t[ly + 1][lx + 2]) +                                 \
                0.01f * (t[ly][lx] + t[ly + 2][lx + 2] - t[ly][lx + 2] - t[ly + 2][lx]);     \
            k = ti[ly + 1][lx + 1] * 5 - ti[ly][lx + 1] - ti[ly + 2][lx + 1] -               \
                ti[ly + 1][lx] - ti[ly + 1][lx + 2] + (ti[ly][lx] ^ ti[ly + 2][lx + 2]);     \
            acc = acc * 3 + k;                                                               \
            barrier(CLK_LOCAL_MEM_FENCE);                                                    \
        }                                                                                    \
        out[g] = v;                                                                          \
        outi[g * 3] = k;                                                                     \
        outi[g * 3 + 1] = (int)acc;                                                          \
        outi[g * 3 + 2] = (int)(acc >> 32);                                                  \
    }

STENCIL2D(st_16x4, 16, 4)
STENCIL2D(st_8x8, 8, 8)
STENCIL2D(st_32x2, 32, 2)

// A smaller form (floats only, 5 points), for the widest chunks at -O2.
#define STENCIL2D_SMALL(NAME, TW, TH)                                                         \
    __kernel void NAME(__global const float *in, __global float *out, __global int *outi,   \
                       int iters) {                                                          \
        __local float t[TH + 2][TW + 2];                                                     \
        int lx = get_local_id(0), ly = get_local_id(1);                                      \
        size_t g = GRP * (TW * TH) + (size_t)(ly * TW + lx);                                 \
        float v = in[g];                                                                     \
        for (int it = 0; it < iters; it++) {                                                 \
            t[ly + 1][lx + 1] = v;                                                           \
            if (lx == 0)                                                                     \
                t[ly + 1][0] = v * 0.5f;                                                     \
            if (lx == TW - 1)                                                                \
                t[ly + 1][TW + 1] = v * 0.25f;                                               \
            if (ly == 0)                                                                     \
                t[0][lx + 1] = -v;                                                           \
            if (ly == TH - 1)                                                                \
                t[TH + 1][lx + 1] = v + 1.0f;                                                \
            barrier(CLK_LOCAL_MEM_FENCE);                                                    \
            v = 0.2f * (t[ly + 1][lx + 1] + t[ly][lx + 1] + t[ly + 2][lx + 1] +              \
                        t[ly + 1][lx] + t[ly + 1][lx + 2]);                                  \
            barrier(CLK_LOCAL_MEM_FENCE);                                                    \
        }                                                                                    \
        out[g] = v;                                                                          \
        outi[g * 3] = as_int(v);                                                             \
    }

STENCIL2D_SMALL(sts_16x4, 16, 4)
STENCIL2D_SMALL(sts_32x2, 32, 2)

// 1-D: a local argument of exactly lsz + 2 longs; every lane reads its element and both
// neighbours (the last lanes read the arena's last element).
__kernel void st_1d(__global const long *in, __global long *out, __local long *t, int iters) {
    uint lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = GRP * lsz + lid;
    long v = in[g];
    uint u = (uint)v | 0x80000000u;
    for (int it = 0; it < iters; it++) {
        t[lid + 1] = v;
        if (lid == 0) {
            t[0] = v ^ 0x7fffffffffffffffL;
            t[lsz + 1] = -v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        v = t[lid] - 2 * t[lid + 1] + t[lid + 2] + (long)u;
        u = u * 3 + (uint)t[lid + 2];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[g * 2] = v;
    out[g * 2 + 1] = u;
}
