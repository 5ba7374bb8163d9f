// Local accesses at constant offsets from one address (a tile's row, an unrolled loop): in
// checked mode the vector path checks their whole range once at their block's start, and
// on a miss runs the block as the interpreter does (each instruction for the chunk's lanes
// in order), so the fault reported is the one a lane meets first. `d` moves the accesses,
// `g` makes a global read before them fault first (for lanes whose id + g is past `in`).
// t holds 8 floats per work-item, the first 4 written before they are read.

// One address per chunk (a 2-D group's row: as tiled matmul's A tile).
__kernel void row_uniform(__global const float *in, __global float *out, __local float *t,
                          int d, int g) {
    size_t l = get_local_id(0) + get_local_size(0) * get_local_id(1);
    size_t n = get_local_size(0) * get_local_size(1);
    size_t gid = get_global_id(0) + get_global_size(0) * get_global_id(1);
    for (int k = 0; k < 4; ++k)
        t[l + k * n] = in[gid] + (float)k;
    barrier(CLK_LOCAL_MEM_FENCE);
    float s = in[gid + g];
    __local float *r = t + get_local_id(1) * get_local_size(0) + d;
    s += r[0] + r[1] * 2.0f + r[2] * 3.0f + r[3] * 4.0f + r[4] + r[5] + r[6] + r[7];
    out[gid] = s;
}

// Consecutive addresses per chunk (as tiled matmul's B tile), read, then written (no two
// work-items write one place: groups are at most 64 work-items).
__kernel void rows_contig(__global const float *in, __global float *out, __local float *t,
                          int d, int g) {
    size_t l = get_local_id(0) + get_local_size(0) * get_local_id(1);
    size_t n = get_local_size(0) * get_local_size(1);
    size_t gid = get_global_id(0) + get_global_size(0) * get_global_id(1);
    for (int k = 0; k < 4; ++k)
        t[l + k * n] = in[gid] * (float)(k + 1);
    barrier(CLK_LOCAL_MEM_FENCE);
    float s = in[gid + g];
    __local float *r = t + l + d;
    s += r[0] + r[16] * 2.0f + r[32] * 3.0f + r[48];
    barrier(CLK_LOCAL_MEM_FENCE);
    r[0] = s;
    r[64] = s + 1.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[gid] = t[l] + t[l + n];
}
