// Uniform values (the same for every lane of a SIMD group of 4 consecutive work-items:
// kernel arguments, group ids and sizes, loads from one address) mixed with varying ones
// (local and global ids, loads from per-lane addresses), in 1, 2 and 3 dimensions: a group
// of 4 consecutive linear local ids spans several rows when get_local_size(0) is not a
// multiple of 4, so get_local_id(1) varies inside it, and with get_local_size(0) == 1
// get_global_id(0) is the same for the 4 lanes.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LIN                                                                                   \
    ((((get_global_id(2) - get_global_offset(2)) * get_global_size(1)) +                      \
      (get_global_id(1) - get_global_offset(1))) * get_global_size(0) +                       \
     (get_global_id(0) - get_global_offset(0)))
#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))

// 16 results per work-item (at its linear global id).
__kernel void uni_mix(__global const int *in, __global long *out, int a, long b, float f) {
    size_t lin = LIN;
    int u0 = a * 3 + (int)get_group_id(0) * 7 + (int)get_group_id(1) * 11 + (int)get_group_id(2) * 13;
    long u1 = b ^ ((long)get_local_size(0) << 40) ^ ((long)get_num_groups(1) << 20) ^ (long)get_local_size(2);
    int u2 = in[get_group_id(0) % 8];
    int u3 = in[0];
    int lx = get_local_id(0), ly = get_local_id(1), lz = get_local_id(2);
    int v0 = lx + 10 * ly + 100 * lz;
    long v1 = (long)get_global_id(0) * u1 + (long)get_global_id(1) - (long)get_global_id(2);
    __global long *o = out + lin * 16;
    o[0] = u0;
    o[1] = u1;
    o[2] = u2 + u3;
    o[3] = v0;
    o[4] = v1;
    o[5] = u0 * v0 + u2;
    o[6] = (u0 > v0) ? u1 : v1;
    o[7] = (a > 0) ? v0 : u0;
    float fv = f * (float)v0 + (float)u0;
    o[8] = as_int(fv);
    o[9] = (long)get_global_id(0) - (long)get_global_offset(0) + (long)get_global_offset(1) * 1000;
    o[10] = (long)LLIN;
    o[11] = (long)get_global_size(0) * 3 + (long)get_global_size(1) * 5 + (long)get_global_size(2) * 7 + get_work_dim();
    // A varying value that is the same in every lane of some SIMD groups only.
    o[12] = (long)(get_global_id(0) / 4) * a + get_global_id(1);
    // Uniform in value but computed from varying ids.
    o[13] = (long)(get_global_id(0) - get_local_id(0)) + (long)(get_local_id(1) - get_local_id(1));
    double d = (double)b * 0.5 + (double)v0;
    o[14] = as_long(d);
    o[15] = (long)in[(lin * 7 + a) % 8] + (long)in[lx % 8] * 1000;
}

// A private array at a uniform index is still per lane: every lane stores its own value to
// t[k] (the same offset, a different lane's private memory) and reads it back.
__kernel void uni_private(__global const int *in, __global int *out, int k) {
    size_t g = get_global_id(0);
    int x = in[g];
    int t[8];
    for (int i = 0; i < 8; i++)
        t[i] = x * (i + 1) + k;
    t[k & 7] += (int)g;
    t[g & 7] ^= 0x55;
    t[(k + 3) & 7] = t[k & 7] - t[(g + 1) & 7];
    uint s = 0;
    for (int i = 0; i < 8; i++)
        s = s * 31 + (uint)t[i];
    __global int *o = out + g * 3;
    o[0] = (int)s;
    o[1] = t[k & 7];
    o[2] = t[(k * 5 + (int)g) & 7];
}

// Loads from a uniform address after stores to it from varying code (one lane, or every lane
// to its own slot, then a barrier): local and global memory.
__kernel void uni_after_store(__global const int *in, __global int *scratch, __global int *out) {
    __local int sh[256];
    __local int one;
    int lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_global_id(0), grp = get_group_id(0);
    __global int *mine = scratch + grp * lsz;
    int x = in[g];
    mine[lid] = x * 3;
    sh[lid] = x + 1;
    if (lid == lsz - 1)
        one = x ^ 0x1234;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    int first = mine[0];
    int last = mine[lsz - 1];
    int nb = mine[(lid + 1) % lsz];
    int l0 = sh[0], ll = sh[lsz - 1], o1 = one;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    if (lid == (lsz - 1) / 2) {
        mine[0] = first + last;
        sh[0] = l0 * 2;
        one = o1 + 1;
    }
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    // Read again: the same addresses now hold what one lane stored.
    out[g * 4 + 0] = mine[0] + first;
    out[g * 4 + 1] = sh[0] + ll + nb;
    out[g * 4 + 2] = one + o1;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    // Each lane's own slot: stored, then loaded through a different expression.
    mine[lid] = x * 5 + lid;
    out[g * 4 + 3] = *(scratch + get_group_id(0) * get_local_size(0) + lid) + mine[lid];
}

// A store from one lane to a uniform address and a read-modify-write loop of one lane; an
// exchange of one uniform value by every lane (the same value: the result is order-free).
__kernel void uni_one_lane(__global const int *in, __global int *acc, __global int *flag, int n) {
    size_t grp = get_group_id(0);
    int lid = get_local_id(0);
    if (lid == 0) {
        for (int i = 0; i < n; i++)
            acc[grp] += in[(grp * 3 + i) % 64] * (i + 1);
    }
    if (lid == get_local_size(0) - 1)
        acc[get_num_groups(0) + grp] = in[grp % 64] - lid;
    atomic_xchg(&flag[grp], (int)grp * 7 + n);
}

// Loops whose trip count is uniform (arguments) with varying bodies, and a loop whose
// induction variable steps uniformly but exits per lane: after the loop its value is
// varying (the counter's last value differs by lane).
__kernel void uni_loops(__global const int *in, __global int *out, int n, int m) {
    size_t g = get_global_id(0);
    int x = in[g];
    uint s = 0;
    for (int i = 0; i < n; i++) {
        uint t = x;
        for (int j = 0; j < m; j++)
            t = t * 3 + j + i;
        s ^= t;
    }
    int i;
    int u = 0;
    for (i = 0; i < 64; i++) {
        u = n * i + m;
        if (i * i > (x & 0x3ff))
            break;
    }
    int k = 0;
    while (k < n + (x & 3))
        k += 2;
    out[g * 4 + 0] = s;
    out[g * 4 + 1] = i;
    out[g * 4 + 2] = u;
    out[g * 4 + 3] = k;
}

// Uniform values stored to consecutive addresses (a vector store of a broadcast), also in a
// divergent branch and in a tail of lanes.
__kernel void uni_store(__global int *out, __global long *outl, __global float *outf, int u, long l, float f) {
    size_t g = get_global_id(0) - get_global_offset(0);
    out[g] = u;
    outl[g] = l;
    if (g & 1)
        outf[g] = f;
    else
        outf[g] = -f;
    if (get_local_id(0) >= 4 * (get_local_size(0) / 4))
        out[get_global_size(0) + g] = u + 1;
    else
        out[get_global_size(0) + g] = (int)get_local_id(0);
}

// Global ids near 2^31 and 2^32 (the test's global offsets): the 4 lanes of a SIMD group
// cross the boundary of int and of uint.
__kernel void big_ids(__global long *out) {
    size_t gid = get_global_id(0);
    size_t i = gid - get_global_offset(0);
    __global long *o = out + i * 6;
    o[0] = (int)gid;
    o[1] = (uint)gid;
    o[2] = (long)(gid >> 31);
    o[3] = (long)gid;
    o[4] = (int)gid < 0;
    o[5] = (long)((uint)gid + 7u) + (long)((int)gid * 3);
}
