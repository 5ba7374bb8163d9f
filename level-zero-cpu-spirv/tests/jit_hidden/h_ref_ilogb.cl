// ilogb (OpenCL C 1.2, 6.12.2): refused by the engine at build time.
__kernel void f_ilogb(__global const float *x, __global int *e) {
    size_t i = get_global_id(0);
    e[i] = ilogb(x[i]);
}
