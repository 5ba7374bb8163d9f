// float arithmetic and comparisons: out[i*12 + k] = op_k(a[i], b[i]).
__kernel void float_ops(__global const float *a, __global const float *b, __global float *out) {
    size_t i = get_global_id(0);
    float x = a[i], y = b[i];
    __global float *o = out + i * 12;
    o[0] = x + y;
    o[1] = x - y;
    o[2] = x * y;
    o[3] = x / y;
    o[4] = -x;
    o[5] = fmod(x, y);
    o[6] = x < y ? 1.0f : 0.0f;
    o[7] = x >= y ? 1.0f : 0.0f;
    o[8] = x == y ? 1.0f : 0.0f;
    o[9] = x != y ? 1.0f : 0.0f;
    o[10] = x * 0.5f - y * 0.25f;
    o[11] = (float)(int)x;
}
