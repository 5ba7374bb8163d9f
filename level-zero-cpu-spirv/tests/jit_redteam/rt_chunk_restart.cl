// Values a kernel resets to a constant (uniform) where other instructions make them differ
// per work-item: each group of work-items the JIT runs together must start from the constant,
// not from what the previous group left (a vector-path bug once kept the accumulator).

__kernel void accumulate_window(__global const int *in, __global float *out) {
    int g = get_global_id(0);
    float s = 0;
    for (int i = 0; i < 6; ++i)
        s += (float)in[g + i] * 0.5f;
    out[g] = s;
}

__kernel void twice_the_id(__global int *out) {
    int g = get_global_id(0);
    int s = 0;
    for (int i = 0; i < 2; ++i)
        s += g;
    out[g] = s;
}
