// double arithmetic (cl_khr_fp64): out[i*8 + k] = op_k(a[i], b[i]).
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void double_ops(__global const double *a, __global const double *b,
                         __global double *out) {
    size_t i = get_global_id(0);
    double x = a[i], y = b[i];
    __global double *o = out + i * 8;
    o[0] = x + y;
    o[1] = x - y;
    o[2] = x * y;
    o[3] = x / y;
    o[4] = sqrt(fabs(x));
    o[5] = fma(x, y, 1.0);
    o[6] = x < y ? x : y;
    o[7] = (double)(float)x;
}
