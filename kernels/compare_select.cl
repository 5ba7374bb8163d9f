// Comparisons, selects and the relational built-ins.
__kernel void compare_select(__global const int *a, __global const int *b, __global const float *f,
                             __global int *out) {
    size_t i = get_global_id(0);
    int x = a[i], y = b[i];
    float g = f[i];
    __global int *o = out + i * 10;
    o[0] = x < y ? x : y;
    o[1] = select(x, y, x > y);
    o[2] = (uint)x < (uint)y;
    o[3] = isnan(g);
    o[4] = isinf(g);
    o[5] = signbit(g);
    o[6] = any((int4)(x, y, 0, 0) < 0);
    o[7] = all((int4)(x, y, 1, 1) > 0);
    o[8] = (x > 0 && y > 0) || g > 1.0f;
    o[9] = isgreater(g, 0.5f) + 2 * isless(g, -0.5f);
}
