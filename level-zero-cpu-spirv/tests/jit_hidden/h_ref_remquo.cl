// remquo (OpenCL C 1.2, 6.12.2): refused by the engine at build time ("unsupported
// OpenCL.std instruction `remquo`"), so any program using it fails to build.
__kernel void f_remquo(__global const float *x, __global const float *y, __global float *r, __global int *q) {
    size_t i = get_global_id(0);
    int k;
    r[i] = remquo(x[i], y[i], &k);
    q[i] = k;
}
