// Barriers: values of every width live across many barriers (saved and restored per lane),
// barriers in uniform loops, local memory transposes and reductions, prefix sums, and
// barriers after divergent code that has reconverged (loops whose trip count differs per
// lane, early exits from a loop, branches of different lengths).
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GLIN                                                                                  \
    ((((get_global_id(2) - get_global_offset(2)) * get_global_size(1)) +                      \
      (get_global_id(1) - get_global_offset(1))) * get_global_size(0) +                       \
     (get_global_id(0) - get_global_offset(0)))

// Every width live across a barrier in a uniform loop; the loop's own counter, a uniform
// accumulator and varying ones; neighbours exchanged through local memory each round.
__kernel void bar_live(__global const int *in, __global long *out, __local int *tmp, int rounds) {
    int lid = LLIN, lsz = LSZ;
    size_t g = GLIN;
    int x = in[g];
    char c = (char)(x * 3);
    uchar uc = (uchar)(x + 200);
    short s = (short)(x * -1000);
    ushort us = (ushort)(x * 7777);
    uint u = (uint)x * 3000000000u;
    long l = (long)x * -123456789123L;
    ulong ul = (ulong)x * 0x9e3779b97f4a7c15UL;
    float f = (float)x / 3.0f;
    double d = (double)x / 7.0;
    float4 v4 = (float4)(f, f * 2, -f, 0.5f);
    int3 i3 = (int3)(x, x + 1, x - 1);
    short2 s2 = (short2)(s, (short)lid);
    int priv[5] = {x, x * 2, x * 3, lid, (int)g};
    int *pp = &priv[lid % 5];
    __global const int *gp = in + g;
    int uni = rounds * 11;
    for (int r = 0; r < rounds; r++) {
        tmp[lid] = x + r;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = tmp[(lid + 1 + r) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
        c += (char)nb;
        uc ^= (uchar)r;
        s -= (short)nb;
        us += (ushort)(nb * 3);
        u = u * 5 + (uint)nb;
        l += nb;
        ul ^= (ulong)nb << (r * 7);
        f += (float)nb * 0.25f;
        d -= (double)nb * 0.125;
        v4 = v4.yzwx + (float4)((float)r);
        i3 = i3.zxy + (int3)(nb);
        s2 = s2.yx;
        *pp += nb;
        uni += r;
        x = nb ^ x;
    }
    __global long *o = out + g * 16;
    o[0] = c + uc;
    o[1] = s + us;
    o[2] = u;
    o[3] = l;
    o[4] = (long)ul;
    o[5] = as_int(f);
    o[6] = as_long(d);
    o[7] = as_int(v4.x) ^ as_int(v4.y) ^ as_int(v4.z) ^ ((long)as_int(v4.w) << 32);
    o[8] = i3.x + i3.y * 3 + i3.z * 5;
    o[9] = s2.x * 100000 + s2.y;
    o[10] = priv[0] + priv[1] + priv[2] + priv[3] + priv[4];
    o[11] = *pp + *gp;
    o[12] = uni;
    o[13] = x;
    o[14] = lid;
    o[15] = lsz;
}

// A tile transposed through local memory: the group is W x H (any sizes); each work-item
// writes its element, then reads the element of its transposed position in the tile.
__kernel void bar_transpose(__global const int *in, __global int *out, __local int *tile) {
    int lx = get_local_id(0), ly = get_local_id(1);
    int w = get_local_size(0), h = get_local_size(1);
    size_t g = GLIN;
    tile[ly * w + lx] = in[g];
    barrier(CLK_LOCAL_MEM_FENCE);
    // The lane with linear id k reads tile element (k % h) * w + k / h.
    int k = ly * w + lx;
    int q = k / h;
    int t = tile[(k - q * h) * w + q];
    barrier(CLK_LOCAL_MEM_FENCE);
    tile[k] = t * 2;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[g] = tile[w * h - 1 - k] + t;
}

// Reductions in local memory for any group size (not only powers of two): a tree with
// lid + s < lsz, then a second reduction of doubles, then lane 0 stores the group's result.
__kernel void bar_reduce(__global const int *in, __global long *out, __local long *scratch, __local double *ds) {
    int lid = LLIN, lsz = LSZ;
    size_t g = GLIN;
    scratch[lid] = in[g];
    ds[lid] = (double)in[g] * 0.5;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 1; s < lsz; s *= 2) {
        if (lid % (2 * s) == 0 && lid + s < lsz) {
            scratch[lid] += scratch[lid + s];
            ds[lid] = ds[lid] + ds[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    size_t grp = (get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0);
    if (lid == 0) {
        out[grp * 2] = scratch[0];
        out[grp * 2 + 1] = as_long(ds[0]);
    }
    // Every lane reads the result afterwards (the same address for all lanes).
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_num_groups(0) * get_num_groups(1) * get_num_groups(2) * 2 + g] = scratch[0] - in[g];
}

// Hillis-Steele inclusive prefix sum (two buffers), 1-D groups.
__kernel void bar_scan(__global const int *in, __global int *out, __local int *a, __local int *b) {
    int lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_global_id(0) - get_global_offset(0);
    a[lid] = in[g];
    barrier(CLK_LOCAL_MEM_FENCE);
    __local int *src = a, *dst = b;
    for (int off = 1; off < lsz; off *= 2) {
        dst[lid] = lid >= off ? src[lid] + src[lid - off] : src[lid];
        barrier(CLK_LOCAL_MEM_FENCE);
        __local int *t = src;
        src = dst;
        dst = t;
    }
    out[g] = src[lid];
}

// A barrier after divergent code: a loop whose trip count differs per lane, an early exit
// from a loop, branches of different lengths; then neighbours' results read through local
// memory; and again.
__kernel void bar_after_divergence(__global const int *in, __global int *out, __local int *tmp) {
    int lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_global_id(0) - get_global_offset(0);
    int x = in[g];
    uint h = (uint)x;
    for (int i = 0; i < (x & 15); i++)
        h = h * 31 + (uint)i;
    int j;
    for (j = 0; j < 20; j++) {
        if (((h >> j) & 3) == 3)
            break;
    }
    if (x & 16) {
        for (int k = 0; k < 3; k++)
            h ^= h >> (k + 1);
    } else if (x & 32) {
        h = ~h;
    }
    tmp[lid] = (int)(h + (uint)j);
    barrier(CLK_LOCAL_MEM_FENCE);
    uint a = (uint)tmp[(lid + 1) % lsz];
    uint b = (uint)tmp[lsz - 1 - lid];
    barrier(CLK_LOCAL_MEM_FENCE);
    // Divergent again, with a switch.
    switch (x % 3) {
    case 0:
        a += b;
        break;
    case 1:
    case -2:
        a -= b;
        break;
    default:
        for (int k = 0; k < (x & 7); k++)
            a = a * 3 + b;
    }
    tmp[lid] = (int)a;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[g * 3 + 0] = tmp[(lid + lsz - 1) % lsz];
    out[g * 3 + 1] = (int)a;
    out[g * 3 + 2] = j;
}

// Barriers in a function called from a uniform loop and from a uniform branch, with a
// local pointer argument and a result live across them.
int exchange(__local int *t, int lid, int lsz, int v) {
    t[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int r = t[(lid * 3 + 1) % lsz];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel void bar_call(__global const int *in, __global int *out, __local int *t, int n) {
    int lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_global_id(0) - get_global_offset(0);
    int v = in[g];
    long acc = 0;
    for (int i = 0; i < n; i++) {
        v = exchange(t, lid, lsz, v + i) ^ (v >> 1);
        acc += v;
    }
    if (n > 2)
        v = exchange(t, lid, lsz, v * 2);
    out[g * 2] = v;
    out[g * 2 + 1] = (int)(acc ^ (acc >> 32));
}

// Byte and short stores by consecutive lanes to local memory, read back after the barrier
// as whole words made of 4 (or 2) lanes' stores; then some lanes return after the last
// barrier.
__kernel void bar_subword(__global const int *in, __global uint *out) {
    __local uchar lb[256];
    __local ushort ls[256];
    int lid = get_local_id(0), lsz = get_local_size(0);
    size_t g = get_global_id(0) - get_global_offset(0);
    int x = in[g];
    lb[lid] = (uchar)x;
    ls[lid] = (ushort)(x >> 3);
    barrier(CLK_LOCAL_MEM_FENCE);
    int w = lid / 4;
    uint word = 4 * w + 3 < lsz ? ((__local uint *)lb)[w] : lb[lid];
    int h = lid / 2;
    uint half2 = 2 * h + 1 < lsz ? ((__local uint *)ls)[h] : ls[lid];
    out[g * 2] = word;
    if (x & 4)
        return;
    out[g * 2 + 1] = half2;
}
