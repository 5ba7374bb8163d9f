// __local arrays (static) and __local pointer arguments together: a tile transpose and a
// histogram in local memory.
#define T 8
__kernel void transpose(__global const int *in, __global int *out, __local int *tile2, int w) {
    __local int tile[T][T + 1];
    int lx = get_local_id(0), ly = get_local_id(1);
    int gx = get_global_id(0), gy = get_global_id(1);
    tile[ly][lx] = in[gy * w + gx];
    tile2[ly * T + lx] = in[gy * w + gx] * 2;
    barrier(CLK_LOCAL_MEM_FENCE);
    int ox = get_group_id(1) * T + lx, oy = get_group_id(0) * T + ly;
    out[oy * w + ox] = tile[lx][ly] + tile2[lx * T + ly];
}

__kernel void local_hist(__global const uchar *in, __global uint *out, __local uint *bins, int per) {
    __local uint total[1];
    int lid = get_local_id(0), lsz = get_local_size(0);
    for (int b = lid; b < 16; b += lsz)
        bins[b] = 0;
    if (lid == 0)
        total[0] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < per; ++k) {
        uchar v = in[get_global_id(0) * per + k];
        atomic_inc(&bins[v & 15]);
        atomic_add(&total[0], v);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int b = lid; b < 16; b += lsz)
        atomic_add(&out[b], bins[b]);
    if (lid == 0)
        atomic_add(&out[16], total[0]);
}

// Two __local pointer arguments and a static array; pointer arithmetic between them.
__kernel void local_ptrs(__global int *out, __local int *a, __local short *b) {
    __local long s[32];
    int lid = get_local_id(0), lsz = get_local_size(0);
    a[lid] = lid * 3;
    b[lid] = (short)(lid - 5);
    s[lid % 32] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    __local int *pa = a + (lsz - 1 - lid);
    __local short *pb = &b[(lid * 7) % lsz];
    if (lid < 32)
        s[lid] = (long)*pa * *pb;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = (int)s[lid % 32] + *pa;
}
