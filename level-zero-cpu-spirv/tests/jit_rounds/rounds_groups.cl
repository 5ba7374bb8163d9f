// Loops with barriers whose trip counts differ between groups (from the group id), so that
// the rounds of one group and of the next run on the same worker with different numbers of
// barriers; a group-dependent number of barriers in a branch; a loop bound read from memory
// per group.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

__kernel void rg_iters(__global const int *in, __global long *out, __local int *t, int base) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int iters = (int)((GRP * 5 + (size_t)base) % 7);
    int x = in[g];
    long l = (long)x << 24;
    uint u = (uint)x | 0x80000000u;
    float f = (float)x;
    size_t aff = get_local_id(0) * 3 + (size_t)iters;
    for (int r = 0; r < iters; r++) {
        t[lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        x += t[(lid + (uint)r + 1) % lsz];
        l -= x;
        barrier(CLK_LOCAL_MEM_FENCE);
        u = u * 3 + (uint)x;
        f = f * 0.5f + (float)(x & 0xff);
        aff += 1;
    }
    __global long *o = out + g * 6;
    o[0] = x;
    o[1] = l;
    o[2] = u;
    o[3] = as_int(f);
    o[4] = (long)aff;
    o[5] = iters;
}

// A loop bound per group from memory, an inner loop bound from the group's y id, and a
// branch on the group's parity holding a loop of barriers.
__kernel void rg_bounds(__global const int *in, __global const int *bounds, __global long *out,
                        __local long *t) {
    uint lid = LLIN, lsz = LSZ;
    size_t grp = GRP;
    size_t g = grp * lsz + lid;
    int n = bounds[grp];
    long v = (long)in[g] * 0x100000001L;
    int x = in[g];
    for (int i = 0; i < n; i++) {
        t[lid] = v;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int j = 0; j < (int)get_group_id(1) % 3; j++) {
            v += t[(lid + (uint)j + 1) % lsz];
            barrier(CLK_LOCAL_MEM_FENCE);
            t[lid] = v ^ x;
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        v = v * 5 + t[(lid * 7) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (grp & 1) {
        for (int i = 0; i < n + 1; i++) {
            t[lid] = v + i;
            barrier(CLK_LOCAL_MEM_FENCE);
            x ^= (int)t[lsz - 1 - lid];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    out[g * 2] = v;
    out[g * 2 + 1] = x;
}
