// build: -cl-std=CL2.0
// spirv: 1.1
// clang: -Xclang -cl-ext=+cl_khr_subgroups
// A required sub-group size (intel_reqd_sub_group_size: the SPIR-V 1.1 execution mode
// SubgroupSize, with SubgroupDispatch): 8 whatever the driver's default.
#pragma OPENCL EXTENSION cl_khr_subgroups : enable

__attribute__((intel_reqd_sub_group_size(8))) __kernel void sg_required(__global uint *out) {
  size_t g = get_global_id(0);
  out[g * 2] = get_max_sub_group_size();
  out[g * 2 + 1] = get_sub_group_local_id();
}
