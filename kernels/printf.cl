// printf with every common conversion (float arguments are promoted to double).
__kernel void printf_kernel(__global const int *in, __global const float *f) {
    size_t i = get_global_id(0);
    printf("item %u: d=%d x=%x f=%.3f e=%e s=%s c=%c%%\n", (uint)i, in[i], in[i], f[i], f[i],
           "ok", 'A' + (int)i);
}
