// Barriers under the vector path: barriers inside uniform (nested) loops with values of
// every kind and width live across them (uniform, affine, varying; char to double), values
// that a barrier recomputes rather than saves next to values it must not recompute (loaded
// from local memory written before the barrier, kept in private arrays, defined in one
// branch), per-lane loops between barriers, and uniform loads of local memory that one
// work-item wrote before the barrier.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

static size_t llin(void) {
    return (get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) +
           get_local_id(0);
}

static size_t ltotal(void) {
    return get_local_size(0) * get_local_size(1) * get_local_size(2);
}

// Nested uniform loops with barriers, many live values. in: N ints; out: 12 N ints;
// sh: L ints; shl: L longs.
__kernel void bar_nested(__global const int *in, __global int *out, __local int *sh,
                         __local long *shl, int R, int S, long big) {
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    int x = in[i];
    char c = (char)x;
    uchar uc = (uchar)(x >> 8);
    short s = (short)(x * 3);
    ushort us = (ushort)i;
    int v = x;
    uint uv = (uint)i * 2654435761u;
    long w = big + (long)i;
    ulong uw = (ulong)x << 32 | (uint)i;
    float f = (float)x * 0.5f;
    double d = (double)x / 3.0;
    size_t a = i * 3 + 5;
    __local int *p = sh + (L - 1 - l);
    int u = R * 7;
    for (int r = 0; r < R; r++) {
        for (int t = 0; t < S; t++) {
            sh[l] = v + t;
            shl[l] = w;
            barrier(CLK_LOCAL_MEM_FENCE);
            v += sh[(l + 1 + r) % L] >> 1;
            w ^= shl[(l + L - 1) % L] + t;
            c += (char)v;
            uc ^= (uchar)(r + t);
            s -= (short)t;
            us += (ushort)(v & 0xff);
            uv = uv * 3 + (uint)t;
            uw = (uw >> 3) + (ulong)w;
            f = f * 0.75f + (float)t;
            d = d - (double)v * 0.125;
            a += (size_t)(r + t);
            u += t;
            barrier(CLK_LOCAL_MEM_FENCE);
            *p = (int)a;
            barrier(CLK_LOCAL_MEM_FENCE);
            v ^= sh[l];
        }
    }
    out[i] = v;
    out[N + i] = c;
    out[2 * N + i] = uc;
    out[3 * N + i] = s;
    out[4 * N + i] = us;
    out[5 * N + i] = (int)uv;
    out[6 * N + i] = (int)w ^ (int)(w >> 32);
    out[7 * N + i] = (int)uw ^ (int)(uw >> 32);
    out[8 * N + i] = as_int(f);
    out[9 * N + i] = (int)as_long(d) ^ (int)(as_long(d) >> 32);
    out[10 * N + i] = (int)a;
    out[11 * N + i] = u;
}

// Values computed before a barrier and used after it: from ids and arguments (recomputable)
// and from local memory written before the barrier and changed after it (not). in: N ints;
// out: 8 N ints; sh: L ints.
__kernel void bar_recompute(__global const int *in, __global int *out, __local int *sh, int k) {
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    size_t a = i * 3 + (size_t)k;
    int b = (int)i * k - 7;
    long c = (long)get_global_id(0) * (long)k;
    sh[l] = in[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    int y = sh[(l + 3) % L];
    int z = y * 2 + b;
    size_t e = a + (size_t)y;
    int first = sh[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    sh[l] = y + 1000;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[i] = (int)a;
    out[N + i] = b;
    out[2 * N + i] = (int)c;
    out[3 * N + i] = y;
    out[4 * N + i] = z;
    out[5 * N + i] = (int)e;
    out[6 * N + i] = first;
    out[7 * N + i] = sh[(l + 5) % L] - sh[0];
}

// Private arrays live across barriers, indexed by uniform and varying values.
// in: N ints; out: 4 N ints; sh: L ints.
__kernel void bar_private(__global const int *in, __global int *out, __local int *sh, int R) {
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    int x = in[i];
    int priv[8];
    long privl[4];
    for (int j = 0; j < 8; j++)
        priv[j] = x * (j + 1) + (int)i;
    for (int j = 0; j < 4; j++)
        privl[j] = (long)x << (8 * j);
    for (int r = 0; r < R; r++) {
        sh[l] = priv[(x + r) & 7];
        barrier(CLK_LOCAL_MEM_FENCE);
        priv[r & 7] += sh[(l + r + 1) % L];
        privl[(x ^ r) & 3] -= sh[L - 1 - l];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    int s = 0;
    for (int j = 0; j < 8; j++)
        s = s * 31 + priv[j];
    long t = 0;
    for (int j = 0; j < 4; j++)
        t ^= privl[j] * (j + 3);
    out[i] = s;
    out[N + i] = priv[x & 7];
    out[2 * N + i] = (int)t;
    out[3 * N + i] = (int)(t >> 32);
}

// One work-item writes local memory before a barrier; everyone loads it at one address
// after (a uniform load) — in a loop, so that it changes between barriers; the writer is in
// a different chunk each round. in: N ints; out: 3 N ints; sh: 2 ints.
__kernel void bar_uniform_load(__global const int *in, __global int *out, __local int *sh, int R) {
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    int x = in[i];
    int acc = 0;
    long lacc = 0;
    for (int r = 0; r < R; r++) {
        if (l == (size_t)((r * 17 + 3) % (int)L)) {
            sh[0] = x + r;
            sh[1] = (int)l;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        int u = sh[0];
        int who = sh[1];
        acc += u * (r + 1);
        lacc = lacc * 5 + (long)who;
        if (u > x)
            acc ^= 1 << (r & 15);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[i] = acc;
    out[N + i] = (int)lacc;
    out[2 * N + i] = (int)(lacc >> 32);
}

// Per-lane loops between barriers, and a value that is uniform in each chunk but not in the
// work-group (i / 16) used across barriers. in: N ints; out: 4 N ints; sh: L ints.
__kernel void bar_chunky(__global const int *in, __global int *out, __local int *sh, int R) {
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    int x = in[i];
    size_t chunk = l / 16;
    int cv = (int)chunk * 100 + (int)(l >> 4);
    int acc = x;
    for (int r = 0; r < R; r++) {
        int t = (acc >> r) & 7;
        for (int k = 0; k < t; k++)
            acc = acc * 3 + k;
        sh[l] = acc + cv;
        barrier(CLK_LOCAL_MEM_FENCE);
        acc ^= sh[(chunk * 16 + ((l + r) & 15)) % L];
        cv += sh[(l + 16) % L] & 1;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[i] = acc;
    out[N + i] = cv;
    out[2 * N + i] = (int)chunk;
    out[3 * N + i] = in[chunk % N];
}

// A variable assigned in one branch only (read by every lane after a barrier: the lanes that
// did not assign it read an uninitialised variable, which both engines define as 0 at the
// start of the work-group). out: 2 N ints.
__kernel void bar_one_branch(__global int *out, int k) {
    size_t N = total(), i = lin();
    size_t l = get_local_id(0);
    int x;
    long y;
    if (l == (size_t)k) {
        x = (int)i * 5;
        y = (long)get_global_id(0) * 3;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    out[i] = x;
    out[N + i] = (int)y;
}

// The same without a barrier.
__kernel void one_branch(__global int *out, int k) {
    size_t N = total(), i = lin();
    size_t l = get_local_id(0);
    int x;
    if (l == (size_t)k)
        x = (int)i * 5;
    out[i] = x;
    out[N + i] = (int)l;
}
