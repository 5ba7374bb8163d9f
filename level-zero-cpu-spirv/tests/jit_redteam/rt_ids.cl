// build: -cl-std=CL2.0
// Work-item built-ins in 1, 2 and 3 dimensions with odd group sizes and global offsets.
__kernel void ids3(__global uint *out, uint bad) {
    size_t lin = get_global_linear_id();
    __global uint *o = out + lin * 24;
    for (uint d = 0; d < 3; ++d) {
        o[d * 7 + 0] = get_global_id(d);
        o[d * 7 + 1] = get_local_id(d);
        o[d * 7 + 2] = get_group_id(d);
        o[d * 7 + 3] = get_local_size(d);
        o[d * 7 + 4] = get_global_size(d);
        o[d * 7 + 5] = get_num_groups(d);
        o[d * 7 + 6] = get_global_offset(d);
    }
    o[21] = get_work_dim();
    o[22] = get_local_linear_id();
    o[23] = get_global_id(bad) + get_local_size(bad + 4) * 10 + get_num_groups(bad + 1) * 100 + get_global_offset(bad) * 1000;
}

__kernel void ids_const(__global uint *out) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    size_t w = get_global_size(0), h = get_global_size(1);
    out[(z * h + y) * w + x] = (uint)(get_local_id(0) + 10 * get_local_id(1) + 100 * get_local_id(2)
        + 1000 * get_group_id(0) + 10000 * get_group_id(1) + 100000 * get_group_id(2));
}
