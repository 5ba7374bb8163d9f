// printf per lane: from every lane (uniform and varying arguments of every width, vectors,
// strings), from a subset of the lanes, a lane-dependent number of times in a loop, and
// around a barrier. Output is ordered per work-item between barriers by both engines.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__constant char names[4][6] = {"zero", "one", "two", "three"};

__kernel void pf_all(__global const int *in, __global int *ret, int u) {
    size_t g = get_global_id(0);
    int lid = get_local_id(0);
    int x = in[g - get_global_offset(0)];
    ret[g - get_global_offset(0)] = printf("g=%d l=%d x=%d u=%d\n", (int)g, lid, x, u);
}

__kernel void pf_types(__global const int *in) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int x = in[g];
    printf("%c %hhd %hd %u %ld %lu %x %#o %+.3f %e %g %a %s %v4d %v2hlf %5.1v3hlf|%-6d|%06.2f %%\n",
           (char)('A' + (x & 15)), (char)x, (short)(x * 300), (uint)x * 7u, (long)x << 33,
           (ulong)(long)x, x, x & 511, (float)x / 7.0f, (double)x * 1e30, (float)x * 0.1f,
           (float)x, names[x & 3], (int4)(x, -x, (int)g, 7), (float2)((float)x, 0.5f),
           (float3)(-0.0f, (float)g, 1.25f), x, (float)x / 3.0f);
}

__kernel void pf_subset(__global const int *in, __global int *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int lid = get_local_id(0);
    int x = in[g];
    if (lid % 3 == 0)
        printf("lane %d of %d: %d\n", lid, (int)get_local_size(0), x);
    if (x & 1) {
        if (x & 2)
            printf("odd3 %d\n", (int)g);
        else
            printf("odd1 %d\n", (int)g);
    }
    out[g] = x * 2;
}

__kernel void pf_loop(__global const int *in) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int x = in[g];
    for (int i = 0; i < (x & 3); i++)
        printf("g%d i%d\n", (int)g, i);
    if (get_local_id(0) == get_local_size(0) - 1)
        printf("last of group %d\n", (int)get_group_id(0));
}

__kernel void pf_barrier(__global const int *in, __local int *tmp) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int lid = get_local_id(0), lsz = get_local_size(0);
    int x = in[g];
    printf("before %d: %d\n", lid, x);
    tmp[lid] = x;
    barrier(CLK_LOCAL_MEM_FENCE);
    int y = tmp[(lid + 1) % lsz];
    if (y & 1)
        printf("after %d: %d\n", lid, y);
    barrier(CLK_LOCAL_MEM_FENCE);
    printf("end %d\n", lid);
}
