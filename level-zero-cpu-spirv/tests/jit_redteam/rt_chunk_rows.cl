// Only x ids read, in a 2-D work-group whose width (6) is not a multiple of the JIT's chunk:
// a chunk of consecutive lanes then spans two rows, and its x ids are not consecutive (a
// vector-path bug once assumed they were, for kernels reading no y id).
__kernel void count_x(__global int *cnt) {
    atomic_add(&cnt[get_global_id(0)], 1);
}

__kernel void copy_x(__global const int *in, __global int *out) {
    size_t x = get_global_id(0);
    out[x] = in[x] * 3 + 1;
}
