// atan2pi (OpenCL C 1.2, 6.12.2): refused by the engine at build time.
__kernel void f_atan2pi(__global const float *y, __global const float *x, __global float *r) {
    size_t i = get_global_id(0);
    r[i] = atan2pi(y[i], x[i]);
}
