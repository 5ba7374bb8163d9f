// Memory as tutorials use it: __local arrays and __local pointer arguments, reductions with
// barriers in loops, atomics on global and local int/uint (order-independent results),
// __constant arrays and program-scope constants, global offsets, 2-D and 3-D ranges.

__constant float weights[5] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
__constant int primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};
__constant uint4 masks4 = (uint4)(0xff, 0xff00, 0xff0000, 0xff000000);

// Classic tree reduction in local memory (any power-of-two group size).
__kernel void reduce_sum(__global const float *in, __global float *partial, __local float *sh) {
    size_t l = get_local_id(0), L = get_local_size(0);
    sh[l] = in[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = L / 2; s > 0; s >>= 1) {
        if (l < s)
            sh[l] += sh[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0)
        partial[get_group_id(0)] = sh[0];
}

// Reduction for any group size (not a power of two): the first work-item folds the tail.
__kernel void reduce_minmax(__global const int *in, __global int *out, __local int *mn, __local int *mx) {
    int l = get_local_id(0), L = get_local_size(0);
    int v = in[get_global_id(0)];
    mn[l] = v;
    mx[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int p = 1;
    while (p * 2 <= L)
        p *= 2;
    if (l + p < L) {
        mn[l] = min(mn[l], mn[l + p]);
        mx[l] = max(mx[l], mx[l + p]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = p / 2; s > 0; s /= 2) {
        if (l < s) {
            mn[l] = min(mn[l], mn[l + s]);
            mx[l] = max(mx[l], mx[l + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        out[get_group_id(0) * 2] = mn[0];
        out[get_group_id(0) * 2 + 1] = mx[0];
    }
}

// Atomics: results independent of the order work-items run in.
__kernel void atomics_global(__global const int *in, __global int *acc, __global uint *uacc) {
    int g = get_global_id(0);
    int v = in[g];
    atomic_add(&acc[0], v);
    atomic_sub(&acc[1], v & 0xff);
    atomic_min(&acc[2], v);
    atomic_max(&acc[3], v);
    atomic_or(&acc[4], 1 << (g & 31));
    atomic_and(&acc[5], ~(1 << (v & 31)));
    atomic_xor(&acc[6], v);
    atomic_inc(&acc[7]);
    atomic_dec(&acc[8]);
    atomic_min(&uacc[0], (uint)v);
    atomic_max(&uacc[1], (uint)v);
    atomic_add(&uacc[2], (uint)v);
    atomic_inc(&uacc[3 + (v & 3)]);
    // cmpxchg loop: a float add through int bits (order-independent only on integers: the
    // values added are small integers, exact in float).
    __global int *fbits = &acc[9];
    int old = *fbits, assumed;
    do {
        assumed = old;
        old = atomic_cmpxchg(fbits, assumed, as_int(as_float(assumed) + (float)(v & 15)));
    } while (old != assumed);
}

// xchg and cmpxchg whose outcome depends on the order: the test checks the multiset.
__kernel void atomics_order(__global int *slot, __global int *olds, __global int *winners) {
    int g = get_global_id(0);
    olds[g] = atomic_xchg(&slot[0], g);
    if (atomic_cmpxchg(&slot[1], -1, g) == -1)
        atomic_inc(&winners[0]);
    __local int lslot;
    if (get_local_id(0) == 0)
        lslot = -5;
    barrier(CLK_LOCAL_MEM_FENCE);
    int o = atomic_xchg(&lslot, (int)get_local_id(0));
    atomic_add(&winners[1], o);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (get_local_id(0) == 0)
        atomic_add(&winners[1], lslot);
}

__kernel void atomics_local(__global const int *in, __global int *out) {
    __local int hist[16];
    __local uint umn, umx;
    __local int cnt;
    int l = get_local_id(0), L = get_local_size(0);
    for (int k = l; k < 16; k += L)
        hist[k] = 0;
    if (l == 0) {
        umn = 0xffffffffu;
        umx = 0;
        cnt = 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    int v = in[get_global_id(0)];
    atomic_inc(&hist[v & 15]);
    atomic_min(&umn, (uint)v);
    atomic_max(&umx, (uint)v);
    if (v & 16)
        atomic_add(&cnt, 2);
    else
        atomic_sub(&cnt, 1);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = l; k < 16; k += L)
        atomic_add(&out[k], hist[k]);
    if (l == 0) {
        atomic_min((__global uint *)&out[16], umn);
        atomic_max((__global uint *)&out[17], umx);
        atomic_add(&out[18], cnt);
    }
}

// Histogram of bytes with local sub-histograms, then a global merge (the tutorial kernel).
__kernel void histogram256(__global const uchar *data, int n, __global uint *hist) {
    __local uint lh[256];
    int l = get_local_id(0), L = get_local_size(0);
    for (int k = l; k < 256; k += L)
        lh[k] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = get_global_id(0); k < n; k += get_global_size(0))
        atomic_inc(&lh[data[k]]);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = l; k < 256; k += L)
        if (lh[k])
            atomic_add(&hist[k], lh[k]);
}

// Constant memory: a 1-D blur with a __constant filter and a __constant table argument.
__kernel void blur_const(__global const float *in, __global float *out, __constant int *tbl, int n) {
    int g = get_global_id(0);
    float s = 0.0f;
    for (int k = -2; k <= 2; ++k) {
        int j = clamp(g + k, 0, n - 1);
        s += weights[k + 2] * in[j];
    }
    uint m = masks4[g & 3];
    out[g] = s * (float)primes[g & 7] + (float)tbl[g % 10] + (float)((uint)g & m);
}

// Global offsets and 2-D / 3-D ranges: every id function in one place.
__kernel void ids_3d(__global uint *out) {
    size_t gx = get_global_id(0), gy = get_global_id(1), gz = get_global_id(2);
    size_t ox = get_global_offset(0), oy = get_global_offset(1), oz = get_global_offset(2);
    size_t W = get_global_size(0), H = get_global_size(1);
    size_t lin = ((gz - oz) * H + (gy - oy)) * W + (gx - ox);
    uint v = (uint)(get_local_id(0) | get_local_id(1) << 8 | get_local_id(2) << 16);
    v ^= (uint)(get_group_id(0) << 4 | get_group_id(1) << 12 | get_group_id(2) << 20);
    v += (uint)(get_num_groups(0) * 3 + get_num_groups(1) * 5 + get_num_groups(2) * 7);
    v += (uint)(get_local_size(0) * 11 + get_local_size(1) * 13 + get_local_size(2) * 17);
    v += (uint)(get_work_dim() << 28);
    out[lin * 2] = v;
    out[lin * 2 + 1] = (uint)(gx * 1000003 + gy * 1009 + gz);
}

// 2-D: tiled matrix transpose through local memory with padding (the bank-conflict trick).
#define TILE 16
__kernel void transpose(__global const float *in, __global float *out, int w, int h) {
    __local float tile[TILE][TILE + 1];
    int x = get_group_id(0) * TILE + get_local_id(0);
    int y = get_group_id(1) * TILE + get_local_id(1);
    if (x < w && y < h)
        tile[get_local_id(1)][get_local_id(0)] = in[y * w + x];
    barrier(CLK_LOCAL_MEM_FENCE);
    x = get_group_id(1) * TILE + get_local_id(0);
    y = get_group_id(0) * TILE + get_local_id(1);
    if (x < h && y < w)
        out[y * h + x] = tile[get_local_id(0)][get_local_id(1)];
}

// 2-D tiled matrix product with a group of BS x BS (BS a macro from the test: 8 or 16).
__kernel void matmul_tiled(__global const float *A, __global const float *B, __global float *C, int n, __local float *As, __local float *Bs) {
    int tx = get_local_id(0), ty = get_local_id(1);
    int bs = get_local_size(0);
    int row = get_global_id(1), col = get_global_id(0);
    float acc = 0.0f;
    for (int t = 0; t < n / bs; ++t) {
        As[ty * bs + tx] = A[row * n + t * bs + tx];
        Bs[ty * bs + tx] = B[(t * bs + ty) * n + col];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < bs; ++k)
            acc += As[ty * bs + k] * Bs[k * bs + tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    C[row * n + col] = acc;
}

// Work-efficient (Blelloch) exclusive scan of one group's elements in local memory.
__kernel void scan_blelloch(__global const int *in, __global int *out, __local int *tmp) {
    int l = get_local_id(0), n = get_local_size(0) * 2;
    int base = get_group_id(0) * n;
    tmp[2 * l] = in[base + 2 * l];
    tmp[2 * l + 1] = in[base + 2 * l + 1];
    int off = 1;
    for (int d = n >> 1; d > 0; d >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l < d) {
            int ai = off * (2 * l + 1) - 1, bi = off * (2 * l + 2) - 1;
            tmp[bi] += tmp[ai];
        }
        off *= 2;
    }
    if (l == 0)
        tmp[n - 1] = 0;
    for (int d = 1; d < n; d *= 2) {
        off >>= 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l < d) {
            int ai = off * (2 * l + 1) - 1, bi = off * (2 * l + 2) - 1;
            int t = tmp[ai];
            tmp[ai] = tmp[bi];
            tmp[bi] += t;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    out[base + 2 * l] = tmp[2 * l];
    out[base + 2 * l + 1] = tmp[2 * l + 1];
}
