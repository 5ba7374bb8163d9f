// build: -cl-std=CL2.0
// spirv-ext: +SPV_EXT_shader_atomic_float_add,+SPV_EXT_shader_atomic_float_min_max
// clang: -Xclang -cl-ext=+cl_ext_float_atomics,+__opencl_c_ext_fp32_global_atomic_add,+__opencl_c_ext_fp32_global_atomic_min_max,+__opencl_c_ext_fp64_global_atomic_add,+__opencl_c_ext_fp64_global_atomic_min_max,+__opencl_c_ext_fp32_local_atomic_add,+cl_khr_fp64,+__opencl_c_fp64,+cl_khr_int64_base_atomics,+cl_khr_int64_extended_atomics
// cl_ext_float_atomics (SPIR-V `AtomicFloat32AddEXT`, `AtomicFloat64AddEXT`,
// `AtomicFloat32MinMaxEXT`, `AtomicFloat64MinMaxEXT`) on global and local memory.
// The inputs are integer-valued, so every order of the additions gives the same sum.

// facc: [sum, min, max]; dacc: [sum, min, max]; old[g]: what the float add returned.
__kernel void float_atomics(__global const float *in, __global atomic_float *facc,
                            __global atomic_double *dacc, __global float *old,
                            __global float *group_sums) {
  __local atomic_float local_sum;
  size_t g = get_global_id(0);
  float v = in[g];
  if (get_local_id(0) == 0) {
    atomic_init(&local_sum, 0.0f);
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  old[g] = atomic_fetch_add_explicit(&facc[0], v, memory_order_relaxed);
  atomic_fetch_min_explicit(&facc[1], v, memory_order_relaxed);
  atomic_fetch_max_explicit(&facc[2], v, memory_order_relaxed);
  atomic_fetch_add_explicit(&dacc[0], (double)v, memory_order_relaxed);
  atomic_fetch_min_explicit(&dacc[1], (double)v, memory_order_relaxed);
  atomic_fetch_max_explicit(&dacc[2], (double)v, memory_order_relaxed);
  atomic_fetch_add_explicit(&local_sum, v, memory_order_relaxed, memory_scope_work_group);
  barrier(CLK_LOCAL_MEM_FENCE);
  if (get_local_id(0) == 0) {
    group_sums[get_group_id(0)] = atomic_load_explicit(&local_sum, memory_order_relaxed,
                                                       memory_scope_work_group);
  }
}
