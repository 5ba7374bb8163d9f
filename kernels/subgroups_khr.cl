// build: -cl-std=CL2.0
// spirv: 1.3
// clang: -Xclang -finclude-default-header -Xclang -cl-ext=+cl_khr_subgroups,+cl_khr_subgroup_non_uniform_arithmetic,+cl_khr_subgroup_ballot,+cl_khr_subgroup_non_uniform_vote,+cl_khr_subgroup_shuffle,+cl_khr_subgroup_shuffle_relative,+cl_khr_subgroup_clustered_reduce
// The khr sub-group extensions (SPIR-V 1.3 `GroupNonUniform*`): operations over the
// sub-group's *active* work-items, inside divergent control flow. Launched with
// work-groups of 32 work-items (a multiple of every reported sub-group size).
#pragma OPENCL EXTENSION cl_khr_subgroups : enable

// 17 results per work-item; -1 where the operation was not executed; the last: the
// sub-group size.
__kernel void sg_non_uniform(__global const int *in, __global int *out) {
  size_t g = get_global_id(0);
  uint l = get_sub_group_local_id();
  uint s = get_max_sub_group_size();
  int x = in[g];
  __global int *o = out + g * 17;
  for (int k = 0; k < 16; k++) {
    o[k] = -1;
  }
  uint4 b = sub_group_ballot(x > 0);
  o[0] = (int)b.x;
  o[1] = (int)sub_group_ballot_bit_count(b);
  o[2] = (int)sub_group_ballot_inclusive_scan(b);
  o[3] = (int)sub_group_ballot_find_lsb(b);
  o[4] = sub_group_inverse_ballot((uint4)(0x55555555u, 0, 0, 0));
  o[5] = sub_group_shuffle(x, (l + 1) % s);
  o[6] = sub_group_shuffle_xor(x, 2);
  o[7] = sub_group_clustered_reduce_add(x, 4);
  o[8] = sub_group_non_uniform_all_equal(x / 1000);
  if (x & 1) {
    o[9] = sub_group_non_uniform_reduce_add(x);
    o[10] = sub_group_non_uniform_scan_inclusive_max(x);
    o[11] = sub_group_elect();
    o[12] = sub_group_broadcast_first(x);
    o[13] = sub_group_non_uniform_reduce_xor(x);
  } else {
    o[9] = sub_group_non_uniform_scan_exclusive_add(x);
    o[14] = sub_group_non_uniform_any(x > 0);
  }
  int up = sub_group_shuffle_up(x, 1); // from an active work-item: outside any branch
  if (l >= 1) {
    o[15] = up;
  }
  o[16] = (int)s;
}
