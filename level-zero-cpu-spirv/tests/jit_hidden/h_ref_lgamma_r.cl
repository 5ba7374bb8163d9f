// lgamma_r (OpenCL C 1.2, 6.12.2): refused by the engine at build time.
__kernel void f_lgamma_r(__global const float *x, __global float *r, __global int *s) {
    size_t i = get_global_id(0);
    int sg;
    r[i] = lgamma_r(x[i], &sg);
    s[i] = sg;
}
