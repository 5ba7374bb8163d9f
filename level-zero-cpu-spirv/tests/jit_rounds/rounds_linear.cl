// build: -cl-std=CL2.0
// Kernels that read the local linear id only (no x, y or z id): the vector path takes
// chunks of consecutive linear ids across the rows of 2-D and 3-D groups (the group's x size
// need not be a multiple of the chunk), with the values saved at barriers and the shortcut
// to the next chunk.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void ln_rounds(__global const int *in, __global long *out, __local int *t, int rounds) {
    uint lid = get_local_linear_id();
    uint lsz = get_local_size(0) * get_local_size(1) * get_local_size(2);
    size_t grp = (get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0);
    size_t g = grp * lsz + lid;
    int x = in[g];
    long w = (long)x * -0x300000001L;
    uint u = (uint)x ^ 0xc0000000u;
    size_t aff = get_local_linear_id() * 3 + 5;
    long uni = (long)grp * 0x1000000001L;
    double d = (double)x;
    for (int r = 0; r < rounds; r++) {
        t[lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = t[(lid + 9) % lsz];
        if (lid % 29 == (uint)r)
            w ^= 0x5555;
        barrier(CLK_LOCAL_MEM_FENCE);
        x ^= nb;
        w += nb;
        u = u * 7 + (uint)nb;
        aff += 1;
        uni -= r;
        d = d * 0.5 + (double)nb;
    }
    __global long *o = out + g * 7;
    o[0] = x;
    o[1] = w;
    o[2] = u;
    o[3] = (long)aff;
    o[4] = uni;
    o[5] = as_long(d);
    o[6] = (long)(uint)x * (long)u;
}
