// build: -cl-std=CL2.0
// clang: -Xclang -cl-ext=+cl_khr_subgroups,+cl_khr_fp64,+__opencl_c_fp64
// cl_khr_subgroups (SPIR-V `Groups` at `Subgroup` scope, and the sub-group built-ins):
// sub-groups are consecutive linear local ids, the last one partial when the work-group
// size is not a multiple of the sub-group size.
#pragma OPENCL EXTENSION cl_khr_subgroups : enable

// 6 values per work-item, indexed by the global linear id.
__kernel void sg_info(__global uint *out) {
  size_t g = get_global_linear_id();
  __global uint *o = out + g * 6;
  o[0] = get_sub_group_size();
  o[1] = get_max_sub_group_size();
  o[2] = get_num_sub_groups();
  o[3] = get_enqueued_num_sub_groups();
  o[4] = get_sub_group_id();
  o[5] = get_sub_group_local_id();
}

#define SG_OPS(o, x)                                                                       \
  o[0] = sub_group_reduce_add(x);                                                          \
  o[1] = sub_group_reduce_min(x);                                                          \
  o[2] = sub_group_reduce_max(x);                                                          \
  o[3] = sub_group_scan_inclusive_add(x);                                                  \
  o[4] = sub_group_scan_exclusive_add(x);                                                  \
  o[5] = sub_group_scan_inclusive_max(x);                                                  \
  o[6] = sub_group_scan_exclusive_min(x);                                                  \
  o[7] = sub_group_broadcast(x, 1);

// 11 results per work-item (the last: the sub-group size the kernel runs with).
__kernel void sg_int(__global const int *in, __global int *out, int threshold) {
  size_t g = get_global_linear_id();
  int x = in[g];
  __global int *o = out + g * 11;
  SG_OPS(o, x)
  o[8] = sub_group_all(x > threshold);
  o[9] = sub_group_any(x > threshold);
  o[10] = get_max_sub_group_size();
}

__kernel void sg_double(__global const double *in, __global double *out) {
  size_t g = get_global_linear_id();
  double x = in[g];
  __global double *o = out + g * 11;
  SG_OPS(o, x)
  o[8] = 0;
  o[9] = 0;
  o[10] = get_max_sub_group_size();
}

// Sub-group collectives in a loop whose trip count differs between sub-groups (uniform
// within each): every sub-group must still see only its own work-items.
__kernel void sg_loop(__global const int *in, __global int *out) {
  size_t g = get_global_linear_id();
  int acc = in[g];
  uint rounds = get_sub_group_id() + 1;
  for (uint k = 0; k < rounds; k++) {
    acc = sub_group_scan_inclusive_add(acc) - sub_group_broadcast(acc, 0);
  }
  out[g * 2] = acc;
  out[g * 2 + 1] = get_max_sub_group_size();
}
