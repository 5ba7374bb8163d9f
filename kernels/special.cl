// clang: -Xclang -cl-ext=+cl_khr_fp64,+__opencl_c_fp64
// OpenCL.std erf, erfc, tgamma, lgamma (what dpnp's erf/erfc ufuncs use), float and double.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

// 4 results per input, float and double.
__kernel void special(__global const double *in, __global float *f, __global double *d) {
  size_t i = get_global_id(0);
  double x = in[i];
  float y = (float)x;
  f[i * 4] = erf(y);
  f[i * 4 + 1] = erfc(y);
  f[i * 4 + 2] = tgamma(y);
  f[i * 4 + 3] = lgamma(y);
  d[i * 4] = erf(x);
  d[i * 4 + 1] = erfc(x);
  d[i * 4 + 2] = tgamma(x);
  d[i * 4 + 3] = lgamma(x);
}
