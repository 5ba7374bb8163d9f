// Divergence before a barrier in some chunks only, so that at the next round some chunks were
// saved lane by lane and others whole: sparse branches (lid % 37 == 5, moving with the
// iteration), values the class analysis finds uniform or affine although they came from
// divergent paths (phis of constants, of affine expressions with the same stride and
// different offsets), early divergent loops before the first barrier.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

// A sparse divergent branch before each barrier of a loop, on lanes that move with the
// iteration; values of several widths live across.
__kernel void rd_sparse(__global const int *in, __global long *out, __global int *side,
                        __local int *t, int rounds, int m) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long w = (long)x * -0x100000007L;
    uint u = (uint)x | 0x80000000u;
    ushort us = (ushort)x;
    double d = (double)x * 0.5;
    size_t aff = get_local_id(0) * 3 + 5;
    long uni = (long)rounds * 0x123456789L;
    for (int r = 0; r < rounds; r++) {
        if ((lid + (uint)r * 11) % (uint)m == 5) {
            x = x * 3 + 1;
            w ^= (long)x << 40;
            side[g] += r + 1;
        }
        t[lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = t[(lid + 5) % lsz];
        if (lid % 23 == (uint)r % 23) {
            u += (uint)nb;
            us ^= (ushort)nb;
            side[g] ^= nb;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        x += nb;
        w += nb;
        d = d * 0.75 + (double)nb;
        aff += 2;
        uni += r;
    }
    __global long *o = out + g * 8;
    o[0] = x;
    o[1] = w;
    o[2] = u;
    o[3] = us;
    o[4] = as_long(d);
    o[5] = (long)aff;
    o[6] = uni;
    o[7] = t[(lid * 3) % lsz];
}

// Values uniform or affine by data flow although they come from divergent paths: a phi of
// two constants, a uniform accumulator changed in a divergent branch, an affine value whose
// offset a divergent branch chose; live across barriers in a loop.
__kernel void rd_fake_uniform(__global const int *in, __global long *out, __global int *side,
                              __local long *t, int rounds, int m) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long acc = 0;
    long pick = 0;
    long uacc = (long)GRP << 36;
    int u32 = -5;
    size_t aff = get_local_id(0) * 3;
    for (int r = 0; r < rounds; r++) {
        if ((lid * 13 + (uint)r) % (uint)m == 5) {
            side[g] += 1;
            pick = -0x7000000000000001L;
            u32 = -100000 - r;
            uacc += 0x100000000L;
            aff = get_local_id(0) * 3 + 8;
        } else {
            pick = 7;
            aff = get_local_id(0) * 3 + 5;
        }
        t[lid] = pick + (long)u32;
        barrier(CLK_LOCAL_MEM_FENCE);
        long nb = t[(lid + 1) % lsz];
        acc = acc * 3 + nb + pick + (long)aff;
        barrier(CLK_LOCAL_MEM_FENCE);
        acc ^= uacc + u32;
        t[lid] = (long)aff * pick;
        barrier(CLK_LOCAL_MEM_FENCE);
        acc += t[(lid + lsz - 1) % lsz];
        x ^= (int)acc;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global long *o = out + g * 6;
    o[0] = acc;
    o[1] = pick;
    o[2] = uacc;
    o[3] = u32;
    o[4] = (long)aff;
    o[5] = x;
}

// Divergent loops before the first barrier (trip counts from the data, on a few lanes
// only), then rounds whose chunks are saved whole; then a divergent early part again in
// a loop with barriers.
__kernel void rd_early(__global const int *in, __global long *out, __local int *t, int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    uint h = (uint)x;
    long l = x;
    if (g % 53 == 7) {
        for (int i = 0; i < (x & 15); i++)
            h = h * 31 + (uint)i;
        l = (long)h << 31;
    }
    t[lid] = (int)h;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int r = 0; r < rounds; r++) {
        int nb = t[(lid + (uint)r + 1) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
        if ((x ^ r) & 0x100) {
            int j;
            for (j = 0; j < 12; j++)
                if (((h >> j) & 3) == 3)
                    break;
            h += (uint)j;
        }
        l += nb;
        h ^= (uint)nb;
        t[lid] = (int)(h + (uint)l);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global long *o = out + g * 3;
    o[0] = h;
    o[1] = l;
    o[2] = t[(lid * 5 + 1) % lsz];
}

// A divergent switch on the group's first chunk only, and a branch taken by every lane of
// some chunks and none of others (chunk-uniform but group-varying: no divergence, but
// chunks take different paths to the same barrier).
__kernel void rd_chunky(__global const int *in, __global long *out, __local int *t, int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long w = (long)x - 0x7fffffffffL;
    uint u = (uint)x ^ 0xf0000000u;
    for (int r = 0; r < rounds; r++) {
        if (lid < 16) {
            switch (x ^ r) {
            case 0:
            case -7:
                w += 3;
                break;
            case 1:
            case 100:
                u ^= 0x80000000u;
                break;
            case -2:
            case 3:
                w = -w;
                break;
            default:
                u += (uint)r;
            }
        }
        if ((get_local_id(0) / 16 + (uint)r) & 1) {
            w ^= (long)u << 29;
            x += 5;
        } else {
            u = u * 7 + (uint)x;
        }
        t[lid] = (int)u + x;
        barrier(CLK_LOCAL_MEM_FENCE);
        x ^= t[(lid + 17) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global long *o = out + g * 3;
    o[0] = x;
    o[1] = w;
    o[2] = u;
}
