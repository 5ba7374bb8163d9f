// half arithmetic (cl_khr_fp16) and the half load/store functions with rounding modes.
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
__kernel void half_ops(__global const half *xs, __global const half *ys, __global half *out, __global int *cmp) {
    int g = get_global_id(0);
    half a = xs[g], b = ys[g];
    out[g * 6 + 0] = a + b;
    out[g * 6 + 1] = a - b;
    out[g * 6 + 2] = a * b;
    out[g * 6 + 3] = a / b;
    out[g * 6 + 4] = fma(a, b, a);
    out[g * 6 + 5] = a < b ? a : b;
    cmp[g] = (a == b) | (a < b) << 1 | (a > b) << 2 | isnan(a) << 3 | (a != b) << 4;
}

__kernel void half_conv(__global const float *xs, __global half *out, __global float *back) {
    int g = get_global_id(0);
    float x = xs[g];
    vstore_half(x, g * 4 + 0, out);
    vstore_half_rtz(x, g * 4 + 1, out);
    vstore_half_rtp(x, g * 4 + 2, out);
    vstore_half_rtn(x, g * 4 + 3, out);
    float4 v = vload_half4(g, out);
    back[g] = v.x + v.y * 2 + v.z * 4 + v.w * 8;
}
