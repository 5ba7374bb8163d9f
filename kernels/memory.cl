// Private, local, global and constant memory, pointer arithmetic.
__kernel void private_array(__global const int *in, __global int *out) {
    size_t i = get_global_id(0);
    int tmp[8];
    for (int k = 0; k < 8; k++)
        tmp[k] = in[i] * k;
    int *p = tmp + (in[i] & 3);            // pointer arithmetic on private memory
    out[i] = p[0] + p[4] + tmp[(i + 1) & 7];
}

__kernel void pointer_walk(__global const float *in, __global float *out, uint stride) {
    size_t i = get_global_id(0);
    __global const float *p = in + i * stride;
    __global const float *end = p + stride;
    float s = 0.0f;
    while (p < end)
        s += *p++;
    *(out + i) = s;
}

__kernel void constant_arg(__constant float *coeffs, __global const float *in,
                           __global float *out) {
    size_t i = get_global_id(0);
    out[i] = coeffs[0] + coeffs[1] * in[i] + coeffs[2] * in[i] * in[i];
}

// Reverses each work-group's chunk through local memory.
__kernel void local_reverse(__global const int *in, __global int *out) {
    __local int buf[64];
    size_t l = get_local_id(0), n = get_local_size(0);
    buf[l] = in[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = buf[n - 1 - l];
}
