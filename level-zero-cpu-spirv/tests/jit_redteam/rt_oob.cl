// Out-of-bounds accesses: both engines must stop with the same fault (kernel, work-item,
// size, write flag, address).
__kernel void oob_read(__global const int *in, __global int *out, int n) {
    int g = get_global_id(0);
    out[g] = in[g + n];
}

__kernel void oob_write(__global long *out, int n) {
    int g = get_global_id(0);
    out[g * n] = g;
}

__kernel void oob_vec(__global const float4 *in, __global float4 *out, int n) {
    int g = get_global_id(0);
    out[g] = in[g] + vload4(g + n, (__global const float *)in);
}

// Two different work-items fault at two different accesses: lane 1 at the first (a read),
// lane 0 at the second (a write).
__kernel void oob_two_lanes(__global int *buf, int n) {
    int g = get_global_id(0);
    int x = buf[g == 1 ? n + 10 : g];
    buf[g == 0 ? n + 20 : g] = x + 1;
}

// A local array overrun (inside the arena, past the array: not a fault) and past the arena.
__kernel void oob_local(__global int *out, int k) {
    __local int a[8];
    __local int b[8];
    int lid = get_local_id(0);
    a[lid] = lid;
    b[lid] = 100 + lid;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = a[lid + k];
}

// A private array overrun.
__kernel void oob_private(__global int *out, int k) {
    int a[4] = {1, 2, 3, 4};
    int g = get_global_id(0);
    out[g] = a[(g + k) & 0xffff];
}

// A fault after a barrier, by a lane other than 0.
__kernel void oob_after_barrier(__global int *out, __local int *tmp, int n) {
    int lid = get_local_id(0);
    tmp[lid] = lid;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0) + (lid == 3 ? n : 0)] = tmp[(lid + 1) % get_local_size(0)];
}
