// build: -cl-std=CL2.0
// clang: -Xclang -cl-ext=+cl_khr_fp64,+__opencl_c_fp64
// Work-group collectives (SPIR-V `Groups` at `Workgroup` scope): reductions, scans and
// broadcasts over the work-group, in linear local-id order, on 2-D work-groups.

#define WG_OPS(T, o, x)                                                                    \
  o[0] = work_group_reduce_add(x);                                                         \
  o[1] = work_group_reduce_min(x);                                                         \
  o[2] = work_group_reduce_max(x);                                                         \
  o[3] = work_group_scan_inclusive_add(x);                                                 \
  o[4] = work_group_scan_exclusive_add(x);                                                 \
  o[5] = work_group_scan_inclusive_min(x);                                                 \
  o[6] = work_group_scan_exclusive_min(x);                                                 \
  o[7] = work_group_scan_inclusive_max(x);                                                 \
  o[8] = work_group_scan_exclusive_max(x);                                                 \
  o[9] = work_group_broadcast(x, 2, 1);                                                    \
  o[10] = work_group_broadcast(x, get_local_size(0) - 1, get_local_size(1) - 1);

// 11 results per work-item; `in` and `out` indexed by the global linear id.
__kernel void wg_int(__global const int *in, __global int *out) {
  size_t g = get_global_linear_id();
  int x = in[g];
  WG_OPS(int, (out + g * 11), x)
}

__kernel void wg_uint(__global const uint *in, __global uint *out) {
  size_t g = get_global_linear_id();
  uint x = in[g];
  WG_OPS(uint, (out + g * 11), x)
}

__kernel void wg_long(__global const long *in, __global long *out) {
  size_t g = get_global_linear_id();
  long x = in[g];
  WG_OPS(long, (out + g * 11), x)
}

__kernel void wg_ulong(__global const ulong *in, __global ulong *out) {
  size_t g = get_global_linear_id();
  ulong x = in[g];
  WG_OPS(ulong, (out + g * 11), x)
}

// Integer-valued floats: every order of evaluation gives the same exact sums.
__kernel void wg_float(__global const float *in, __global float *out) {
  size_t g = get_global_linear_id();
  float x = in[g];
  WG_OPS(float, (out + g * 11), x)
}

__kernel void wg_double(__global const double *in, __global double *out) {
  size_t g = get_global_linear_id();
  double x = in[g];
  WG_OPS(double, (out + g * 11), x)
}

// all/any, and a 1-D broadcast: 3 results per work-item.
__kernel void wg_vote(__global const int *in, __global int *out, int threshold) {
  size_t g = get_global_linear_id();
  int x = in[g];
  out[g * 3] = work_group_all(x > threshold);
  out[g * 3 + 1] = work_group_any(x > threshold);
  out[g * 3 + 2] = work_group_broadcast(x, (size_t)0);
}

// Collectives inside a loop, after divergent code, next to barriers and local memory.
__kernel void wg_loop(__global const int *in, __global int *out, int rounds,
                      __local int *scratch) {
  size_t g = get_global_id(0);
  size_t l = get_local_id(0);
  int acc = 0;
  for (int k = 0; k < rounds; k++) {
    int v = in[g] * (k + 1);
    if (l & 1) {
      v = -v;
    }
    acc += work_group_reduce_add(v);
    scratch[l] = acc + (int)l;
    barrier(CLK_LOCAL_MEM_FENCE);
    acc += scratch[(l + 1) % get_local_size(0)] - (int)((l + 1) % get_local_size(0));
    barrier(CLK_LOCAL_MEM_FENCE);
    acc = work_group_scan_inclusive_max(acc);
  }
  out[g] = acc;
}
