// half arithmetic (cl_khr_fp16): out[i*6 + k] = op_k(a[i], b[i]), and a float copy.
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
__kernel void half_ops(__global const half *a, __global const half *b, __global half *out,
                       __global float *widened) {
    size_t i = get_global_id(0);
    half x = a[i], y = b[i];
    __global half *o = out + i * 6;
    o[0] = x + y;
    o[1] = x - y;
    o[2] = x * y;
    o[3] = x / y;
    o[4] = x < y ? x : y;
    o[5] = (half)((float)x * 2.0f);
    widened[i] = (float)x + (float)y;
}
