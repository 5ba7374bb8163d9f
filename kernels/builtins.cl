// Work-item built-ins: every value, for each dimension, in a 3-D launch.
#define DIM(o, d)                                                                             \
    o[d * 7 + 0] = get_global_id(d);                                                          \
    o[d * 7 + 1] = get_local_id(d);                                                           \
    o[d * 7 + 2] = get_group_id(d);                                                           \
    o[d * 7 + 3] = get_num_groups(d);                                                         \
    o[d * 7 + 4] = get_local_size(d);                                                         \
    o[d * 7 + 5] = get_global_size(d);                                                        \
    o[d * 7 + 6] = get_global_offset(d);

__kernel void builtins(__global uint *out) {
    size_t lin = (get_global_id(2) - get_global_offset(2)) * get_global_size(1) * get_global_size(0) +
                 (get_global_id(1) - get_global_offset(1)) * get_global_size(0) +
                 (get_global_id(0) - get_global_offset(0));
    __global uint *o = out + lin * 22;
    DIM(o, 0)
    DIM(o, 1)
    DIM(o, 2)
    o[21] = get_work_dim();
}
