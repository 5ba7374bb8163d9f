// Whole algorithms whose work-groups take the vector path: a tree reduction (the active
// lanes halve each step: whole chunks, then part of one), a Hillis-Steele scan, a bitonic
// sort in local memory (partners l ^ j: alternating divergence), a tiled matrix product
// with 2-D work-groups, a 1-D stencil with a halo loaded by the first lanes, a histogram with
// local atomics, and chunk-local indexing (l / 16, l & 15).
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

static size_t llin(void) {
    return (get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) +
           get_local_id(0);
}

static size_t ltotal(void) {
    return get_local_size(0) * get_local_size(1) * get_local_size(2);
}

static size_t glin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t grp(void) {
    return get_group_id(0) + get_num_groups(0) * (get_group_id(1) + get_num_groups(1) * get_group_id(2));
}

// L a power of two. out: one long and one double per work-group.
__kernel void reduce(__global const int *in, __global long *out, __global double *outd,
                     __local long *sh, __local double *shd) {
    size_t l = llin(), L = ltotal(), i = glin();
    sh[l] = in[i];
    shd[l] = (double)in[i] * 0.5;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = L / 2; s > 0; s >>= 1) {
        if (l < s) {
            sh[l] += sh[l + s];
            shd[l] = shd[l] * 0.75 + shd[l + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        out[grp()] = sh[0];
        outd[grp()] = shd[0];
    }
}

// Inclusive scan per work-group (double-buffered). out: N ints.
__kernel void scan(__global const int *in, __global int *out, __local int *a, __local int *b) {
    size_t l = llin(), L = ltotal(), i = glin();
    a[l] = in[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    __local int *src = a, *dst = b;
    for (size_t d = 1; d < L; d <<= 1) {
        int v = src[l];
        if (l >= d)
            v += src[l - d];
        dst[l] = v;
        barrier(CLK_LOCAL_MEM_FENCE);
        __local int *t = src;
        src = dst;
        dst = t;
    }
    out[i] = src[l];
}

// Bitonic sort of each work-group's values (L a power of two), descending for odd groups.
__kernel void bitonic(__global const int *in, __global int *out, __local int *sh) {
    size_t l = llin(), L = ltotal(), i = glin();
    int desc = (int)(grp() & 1);
    sh[l] = in[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t k = 2; k <= L; k <<= 1) {
        for (size_t j = k >> 1; j > 0; j >>= 1) {
            size_t p = l ^ j;
            if (p > l) {
                int a = sh[l], b = sh[p];
                int up = ((l & k) == 0) ^ desc;
                if ((a > b) == up) {
                    sh[l] = b;
                    sh[p] = a;
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    out[i] = sh[l];
}

// C = A B with TS x TS tiles (work-groups of TS x TS, TS = local size in x = in y).
// A: M x K, B: K x Nc, C: M x Nc floats; the global size is Nc x M.
__kernel void matmul(__global const float *A, __global const float *B, __global float *C, int K,
                     __local float *ta, __local float *tb) {
    size_t TS = get_local_size(0);
    size_t lx = get_local_id(0), ly = get_local_id(1);
    size_t col = get_global_id(0) - get_global_offset(0);
    size_t row = get_global_id(1) - get_global_offset(1);
    size_t Nc = get_global_size(0);
    float acc = 0.0f;
    float acc2 = 0.0f;
    for (int t = 0; t < K; t += (int)TS) {
        ta[ly * TS + lx] = A[row * K + t + lx];
        tb[ly * TS + lx] = B[(t + ly) * Nc + col];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (size_t k = 0; k < TS; k++) {
            acc = fma(ta[ly * TS + k], tb[k * TS + lx], acc);
            acc2 = mad(ta[ly * TS + k], tb[k * TS + lx], acc2);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    C[row * Nc + col] = acc + acc2 * 0.5f;
}

// 1-D stencil of radius R with a halo loaded by the first and last R lanes.
__kernel void stencil(__global const float *in, __global float *out, __local float *t, int R) {
    size_t l = get_local_id(0), L = get_local_size(0);
    size_t i = get_global_id(0) - get_global_offset(0);
    size_t N = get_global_size(0);
    t[l + R] = in[i];
    if (l < (size_t)R) {
        t[l] = i >= (size_t)R ? in[i - R] : 0.0f;
        t[l + L + R] = i + L < N ? in[i + L] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float s = 0.0f;
    for (int k = -R; k <= R; k++)
        s += t[l + R + k] * (float)(k + R + 1);
    out[i] = s;
}

// A histogram of 64 bins per work-group in local memory, then added to the global one.
__kernel void histogram(__global const int *in, __global int *hist, __local int *bins) {
    size_t l = llin(), L = ltotal(), i = glin();
    for (size_t b = l; b < 64; b += L)
        bins[b] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    atomic_inc(&bins[in[i] & 63]);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t b = l; b < 64; b += L)
        atomic_add(&hist[b], bins[b]);
}

// Indexing by chunk (l / 16: the same in a chunk of 16, not in the work-group) and lane in
// chunk (l & 15); a pointer per chunk.
__kernel void chunk_index(__global const int *in, __global int *out, __local int *sh) {
    size_t l = llin(), L = ltotal(), i = glin();
    size_t c = l / 16, r = l & 15;
    __global const int *base = in + (i - l) + c * 16;
    int x = base[r];
    int y = base[15 - r];
    int z = base[0];
    sh[l] = x + y;
    barrier(CLK_LOCAL_MEM_FENCE);
    __local int *cb = sh + c * 16;
    int w = cb[(r + 1) & 15] - cb[0];
    out[i] = x * 3 + y - z + w;
}

// Pointers whose strides cancel: p has stride -1, the index stride +1 (the same element for
// every lane) or +2 (consecutive again). in: 2 N ints; out: 3 N ints; o2: N ints.
__kernel void cancel(__global const int *in, __global int *out, __global int *o2) {
    size_t i = glin();
    size_t l = llin(), L = ltotal();
    size_t N = get_global_size(0) * get_global_size(1) * get_global_size(2);
    __global const int *p = in + (N - 1 - i);
    int a = p[i];
    int b = p[2 * i];
    __global int *q = out + (N - 1 - i);
    q[2 * i] = a + b;
    __global int *r = o2 + grp() * L + (L - 1 - l);
    r[l] = (int)i;
    out[2 * N + i] = a * 2 - b;
}
