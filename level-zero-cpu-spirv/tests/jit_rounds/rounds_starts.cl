// Barriers reached from several round starts: a loop whose first barrier the entry and the
// back edge reach (tiled matmul's shape), nested loops with barriers at both levels (inner
// loops running zero times in some iterations), a barrier after an if/else whose branches
// are uniform per group and hold different numbers of barriers (or none), a loop rotated so
// that its only barrier is at its bottom.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

// The loop's first barrier: reached from the entry and from the second barrier's
// continuation (the back edge).
__kernel void rs_head(__global const int *in, __global long *out, __local int *t, int iters) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int acc = in[g];
    long acc2 = (long)acc * -3;
    uint h = (uint)acc ^ 0x9e3779b9u;
    size_t aff = get_local_id(0) * 5 + 1;
    long uni = (long)GRP * -0x0000000300000001L;
    int k = 0;
    t[lid] = acc;
    while (1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        int v = t[(lid + k + 1) % lsz];
        acc += v;
        acc2 = acc2 * 5 + v;
        h = ((h << 3) | (h >> 29)) ^ (uint)v;
        barrier(CLK_LOCAL_MEM_FENCE);
        t[lid] = acc ^ (int)h;
        aff += 3;
        uni ^= (long)k << 33;
        if (++k >= iters)
            break;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    __global long *o = out + g * 6;
    o[0] = acc;
    o[1] = acc2;
    o[2] = h;
    o[3] = (long)aff;
    o[4] = uni;
    o[5] = t[(lid * 5 + 2) % lsz];
}

// Nested loops with barriers at both levels; the inner loop runs 0, 1 or more times
// depending on the outer iteration and the group, so the outer loop's closing barrier is
// reached from the outer head's continuation and from the inner loop's.
__kernel void rs_nested(__global const int *in, __global const long *inl, __global long *out,
                        __local int *t, __local long *tl, int outer, int inner) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int a = in[g];
    long b = inl[g];
    uint u = (uint)a | 0x80000000u;
    double d = (double)a;
    size_t aff = get_local_id(0) * 3 + 11;
    int uni = (int)GRP * 7 - 100;
    for (int i = 0; i < outer; i++) {
        t[lid] = a;
        barrier(CLK_LOCAL_MEM_FENCE);
        int m = (inner + i + (int)GRP) % 4;
        for (int j = 0; j < m; j++) {
            int nb = t[(lid + j * 3 + i + 1) % lsz];
            b = b * 31 + nb;
            u += (uint)nb << (j & 7);
            barrier(CLK_LOCAL_MEM_FENCE);
            tl[lid] = b;
            t[lid] = (int)(u ^ (uint)b);
            aff += j;
            barrier(CLK_LOCAL_MEM_FENCE);
            d += (double)tl[(lid + 2) % lsz] * 1e-9;
        }
        a ^= (int)b + uni;
        uni += i;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global long *o = out + g * 6;
    o[0] = a;
    o[1] = b;
    o[2] = u;
    o[3] = as_long(d);
    o[4] = (long)aff;
    o[5] = uni;
}

// If/else uniform per group (the group's parity, and a group-dependent count), each branch
// with its own barriers (the else branch none for some groups); the barrier after the if is
// reached from each branch's last round start.
__kernel void rs_ifelse(__global const int *in, __global long *out, __local int *t, int sel) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long w = (long)x * 0x10001L;
    uint u = (uint)x + 0x80000000u;
    size_t aff = get_local_id(0) * 3 + (size_t)sel;
    long uni = (long)sel << 40;
    if (((int)GRP + sel) & 1) {
        t[lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        x += t[(lid + 1) % lsz];
        w ^= x;
        barrier(CLK_LOCAL_MEM_FENCE);
        t[lid] = (int)w;
        aff += 1;
        uni -= 1;
    } else if ((int)GRP % 3 == 0) {
        u ^= (uint)lid * 0x01000193u;
        w -= 77;
        uni += 1;
    } else {
        t[lsz - 1 - lid] = x * 3;
        barrier(CLK_LOCAL_MEM_FENCE);
        x -= t[lid];
        u += (uint)x;
        aff += 5;
        uni *= 3;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    t[lid] = x ^ (int)u;
    barrier(CLK_LOCAL_MEM_FENCE);
    __global long *o = out + g * 6;
    o[0] = x;
    o[1] = w;
    o[2] = u;
    o[3] = (long)aff;
    o[4] = uni;
    o[5] = t[(lid + 7) % lsz];
}

// A do-while loop with its only barrier at the bottom, and a loop whose body calls a
// function with a barrier: the continuation of the bottom barrier is the loop's head.
int swap_with(__local int *t, uint lid, uint lsz, int v, int k) {
    t[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int r = t[(lid * 3 + (uint)k) % lsz];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel void rs_bottom(__global const int *in, __global long *out, __local int *t, int iters) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long acc = (long)x << 20;
    short s = (short)x;
    uint u = 0xfffffffeu - (uint)x;
    size_t aff = get_local_id(0) * 7;
    int k = 0;
    do {
        x = x * 1103515245 + 12345;
        acc += x;
        s += (short)(x >> 16);
        aff += 4;
        u ^= (uint)k * 0x9e3779b9u;
        k++;
        barrier(CLK_LOCAL_MEM_FENCE);
    } while (k < iters);
    for (int i = 0; i < iters; i++) {
        x = swap_with(t, lid, lsz, x, i) ^ (x >> 1);
        acc -= x;
    }
    __global long *o = out + g * 6;
    o[0] = x;
    o[1] = acc;
    o[2] = s;
    o[3] = u;
    o[4] = (long)aff;
    o[5] = k;
}

// Nothing varying live across the barriers (the ids are recomputed, the counter uniform):
// chunks saved whole with empty frames, the shortcut loading nothing.
__kernel void rs_empty(__global const int *in, __global int *out, __local int *t, int iters) {
    uint lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_group_id(0) * lsz + lid;
    t[lid] = in[g];
    for (int i = 0; i < iters; i++) {
        barrier(CLK_LOCAL_MEM_FENCE);
        int v = t[(lid + 1) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
        t[lid] = v + i;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    out[g] = t[lid];
}
