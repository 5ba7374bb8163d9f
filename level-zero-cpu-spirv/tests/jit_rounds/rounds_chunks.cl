// Divergence in chosen chunks only (a mask argument: bit k for the k-th run of 16 lanes, or
// of 8 and 4), so that after a barrier some chunks were saved lane by lane and their
// neighbours whole, in every pattern; values uniform by the class analysis that differ
// among the lanes of the diverged chunks; group-uniform branches to barriers.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

__kernel void ch_mask(__global const int *in, __global long *out, __global int *side,
                      __local int *t, uint mask, int rounds, uint run) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long w = (long)x << 33;
    uint u = (uint)x | 0x80000000u;
    long pick = -1;
    int small = 3;
    for (int r = 0; r < rounds; r++) {
        uint k = (lid / run + (uint)r) % 32;
        if (((mask >> k) & 1) && (lid % 3 == (uint)r % 3)) {
            side[g] += r;
            pick = (long)r << 40;
            small = -r - 2;
        }
        t[lid] = x + (int)pick;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = t[(lid + 1) % lsz];
        w += nb + pick;
        u ^= (uint)nb + (uint)small;
        barrier(CLK_LOCAL_MEM_FENCE);
        x = x * 3 + small;
    }
    __global long *o = out + g * 5;
    o[0] = x;
    o[1] = w;
    o[2] = u;
    o[3] = pick;
    o[4] = small;
}

// A loop until the group agrees (the exit read from local memory, the same for the whole
// group, data-dependent per group), then a switch on a group-uniform value with barriers in
// its cases; some groups return early after the first barrier (all of their work-items).
__kernel void ch_converge(__global const int *in, __global long *out, __local int *t,
                          __local int *flag, int sel) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g] & 0x3f;
    long steps = 0;
    uint h = (uint)in[g];
    int go;
    do {
        if (lid == 0)
            *flag = 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        t[lid] = x;
        h = h * 0x01000193u ^ (uint)x;
        barrier(CLK_LOCAL_MEM_FENCE);
        x -= (t[(lid + 1) % lsz] & 7) + 1;
        steps += 1;
        if (x > 0)
            *flag = 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        go = *flag;
        barrier(CLK_LOCAL_MEM_FENCE);
    } while (go && steps < 40);
    out[g * 4] = x;
    out[g * 4 + 1] = steps;
    if (GRP % 3 == 2) {
        out[g * 4 + 2] = h;
        return;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    switch ((int)(GRP % 4) ^ sel) {
    case 0:
        t[lid] = (int)h;
        barrier(CLK_LOCAL_MEM_FENCE);
        h += (uint)t[lsz - 1 - lid];
        break;
    case 1:
        h ^= 0x80000000u;
        break;
    default:
        for (int i = 0; i < 2; i++) {
            t[lid] = (int)h + i;
            barrier(CLK_LOCAL_MEM_FENCE);
            h -= (uint)t[(lid + 2) % lsz];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    out[g * 4 + 2] = h;
    out[g * 4 + 3] = (long)(int)h * steps;
}

// Not valid OpenCL (work-items of one group meet at different barrier instructions), but
// both engines take any barrier as the group's meeting point: chunk-uniform branches, each
// with its own barrier, so that neighbouring chunks wait at different round starts and the
// barrier after the branches is reached from both (the shortcut's start must be the one the
// next chunk waits at, else the round's head).
__kernel void ch_split_barriers(__global const int *in, __global long *out, __local int *t,
                                int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    long w = (long)x << 20;
    uint u = (uint)x | 0x80000000u;
    for (int r = 0; r < rounds; r++) {
        t[lid] = x;
        if ((get_local_id(0) / 16 + get_local_id(1) + (uint)r) & 1) {
            w -= 3;
            barrier(CLK_LOCAL_MEM_FENCE);
            x += t[(lid + 1) % lsz];
        } else {
            u ^= (uint)r << 31;
            barrier(CLK_LOCAL_MEM_FENCE);
            x ^= t[(lid + 3) % lsz];
        }
        w += x;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[g * 3] = x;
    out[g * 3 + 1] = w;
    out[g * 3 + 2] = u;
}
