// Work-groups of size 1 and 1024 with barriers and a local reduction.
__kernel void group_sum(__global const int *in, __global int *out) {
    __local int s[1024];
    int lid = get_local_id(0), lsz = get_local_size(0);
    s[lid] = in[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int off = 1; off < lsz; off <<= 1) {
        int v = (lid >= off) ? s[lid - off] : 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        s[lid] += v;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[get_global_id(0)] = s[lid] + (lid == lsz - 1 ? 1000000 : 0);
}
