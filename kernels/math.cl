// OpenCL.std float built-ins: out[i*24 + k] = f_k(a[i], b[i]); a[i] > 0.
__kernel void math_float(__global const float *a, __global const float *b, __global float *out) {
    size_t i = get_global_id(0);
    float x = a[i], y = b[i];
    __global float *o = out + i * 24;
    o[0] = sqrt(x);
    o[1] = rsqrt(x);
    o[2] = exp(y);
    o[3] = log(x);
    o[4] = pow(x, y);
    o[5] = fma(x, y, 1.0f);
    o[6] = mad(x, y, 2.0f);
    o[7] = sin(y);
    o[8] = cos(y);
    o[9] = fabs(y);
    o[10] = floor(y);
    o[11] = ceil(y);
    o[12] = fmin(x, y);
    o[13] = fmax(x, y);
    o[14] = clamp(y, -0.5f, 0.5f);
    o[15] = min(x, y);
    o[16] = max(x, y);
    o[17] = exp2(y);
    o[18] = log2(x);
    o[19] = tan(y);
    o[20] = round(y);
    o[21] = trunc(y);
    o[22] = hypot(x, y);
    o[23] = atan2(y, x);
}

#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void math_double(__global const double *a, __global double *out) {
    size_t i = get_global_id(0);
    double x = a[i];
    __global double *o = out + i * 6;
    o[0] = sqrt(x);
    o[1] = exp(-x);
    o[2] = log(x);
    o[3] = sin(x) + cos(x);
    o[4] = pow(x, 1.5);
    o[5] = fmax(floor(x), 2.0);
}
