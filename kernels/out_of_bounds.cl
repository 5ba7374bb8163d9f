// Misbehaving kernels for the sanitizer tests: index past the buffers they are given.
__kernel void write_past_end(__global int *out, uint n, uint extra) {
    size_t i = get_global_id(0);
    out[i + (i == n - 1 ? extra : 0)] = (int)i;
}

__kernel void read_past_end(__global const int *in, __global int *out, uint n, uint extra) {
    size_t i = get_global_id(0);
    out[i] = in[i + (i == n - 1 ? extra : 0)];
}

__kernel void local_past_end(__global int *out, uint extra) {
    __local int buf[16];
    size_t l = get_local_id(0);
    buf[l + extra] = (int)l;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = buf[l];
}
