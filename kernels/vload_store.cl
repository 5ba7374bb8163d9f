// vload/vstore of vectors and of halves.
__kernel void vload_store(__global const float *in, __global float *out, __global half *halves,
                          __global float *widened) {
    size_t i = get_global_id(0);
    float4 v = vload4(i, in);
    vstore4(v * 2.0f, i, out);
    float2 w = vload2(0, in + i * 4 + 1);
    vstore2(w.yx, 0, out + 4 * get_global_size(0) + i * 2);
    vstore_half(v.x, i, halves);
    widened[i] = vload_half(i, halves) + 1.0f;
}
