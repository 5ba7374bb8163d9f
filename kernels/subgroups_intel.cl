// build: -cl-std=CL2.0
// clang: -Xclang -cl-ext=+cl_khr_subgroups
// spirv-ext: +SPV_INTEL_subgroups
// cl_intel_subgroups (SPIR-V `SubgroupShuffleINTEL`, `SubgroupBufferBlockIOINTEL`): shuffles
// across the sub-group and block reads/writes. Launched with work-groups of 32 work-items,
// a multiple of every sub-group size the driver reports (8, 16, 32): no partial sub-group.
#pragma OPENCL EXTENSION cl_khr_subgroups : enable

// clang 15's default header does not declare the cl_intel_subgroups functions: their
// mangled names are what llvm-spirv maps to the INTEL instructions.
int __attribute__((overloadable)) intel_sub_group_shuffle(int, uint);
int __attribute__((overloadable)) intel_sub_group_shuffle_down(int, int, uint);
int __attribute__((overloadable)) intel_sub_group_shuffle_up(int, int, uint);
int __attribute__((overloadable)) intel_sub_group_shuffle_xor(int, uint);
float __attribute__((overloadable)) intel_sub_group_shuffle(float, uint);
uint __attribute__((overloadable)) intel_sub_group_block_read(const __global uint *);
uint2 __attribute__((overloadable)) intel_sub_group_block_read2(const __global uint *);
void __attribute__((overloadable)) intel_sub_group_block_write(__global uint *, uint);
void __attribute__((overloadable)) intel_sub_group_block_write2(__global uint *, uint2);

// 6 results per work-item (the last: the sub-group size).
__kernel void sg_shuffle(__global const int *in, __global int *out) {
  size_t g = get_global_id(0);
  uint l = get_sub_group_local_id();
  uint s = get_max_sub_group_size();
  int x = in[g];
  __global int *o = out + g * 6;
  o[0] = intel_sub_group_shuffle(x, (l + 3) % s);
  o[1] = intel_sub_group_shuffle_down(x, x + 1000, 2);
  o[2] = intel_sub_group_shuffle_up(x - 1000, x, 3);
  o[3] = intel_sub_group_shuffle_xor(x, 5 % s);
  o[4] = (int)intel_sub_group_shuffle((float)x * 0.5f, s - 1 - l);
  o[5] = (int)s;
}

// Each sub-group reads 3 blocks of its slice of `in` (one uint, then two), writes them
// back permuted into `out`: lane l of a sub-group at `base` reads base[l] (and base[s + l]).
__kernel void sg_block_io(__global const uint *in, __global uint *out, __global uint *size) {
  uint s = get_max_sub_group_size();
  if (get_global_id(0) == 0) {
    *size = s;
  }
  size_t sg = get_group_id(0) * get_num_sub_groups() + get_sub_group_id();
  const __global uint *src = in + sg * 3 * s;
  __global uint *dst = out + sg * 3 * s;
  uint a = intel_sub_group_block_read(src);
  uint2 b = intel_sub_group_block_read2(src + s);
  intel_sub_group_block_write(dst, b.y + 1);
  intel_sub_group_block_write2(dst + s, (uint2)(a * 2, b.x * 3));
}
