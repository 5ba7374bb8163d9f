// The same values as builtins.cl, through a loop over the dimension with a dynamic
// component index. At -O2, llvm-spirv-15 places the loop's exit block before the loop
// (a block before its dominator): spirv-val rejects that module, the engine must still run
// it. It is listed in build.sh's NOVALIDATE on purpose.
__kernel void block_order(__global uint *out) {
    size_t lin = (get_global_id(2) - get_global_offset(2)) * get_global_size(1) * get_global_size(0) +
                 (get_global_id(1) - get_global_offset(1)) * get_global_size(0) +
                 (get_global_id(0) - get_global_offset(0));
    __global uint *o = out + lin * 22;
    for (uint d = 0; d < 3; d++) {
        o[d * 7 + 0] = get_global_id(d);
        o[d * 7 + 1] = get_local_id(d);
        o[d * 7 + 2] = get_group_id(d);
        o[d * 7 + 3] = get_num_groups(d);
        o[d * 7 + 4] = get_local_size(d);
        o[d * 7 + 5] = get_global_size(d);
        o[d * 7 + 6] = get_global_offset(d);
    }
    o[21] = get_work_dim();
}
