// OpenCL.std integer built-ins: out[i*14 + k] = f_k(a[i], b[i]).
__kernel void int_builtins(__global const int *a, __global const int *b, __global int *out,
                           __global uint *uout) {
    size_t i = get_global_id(0);
    int x = a[i], y = b[i];
    __global int *o = out + i * 8;
    o[0] = min(x, y);
    o[1] = max(x, y);
    o[2] = clamp(x, -100, 100);
    o[3] = abs(x);
    o[4] = add_sat(x, y);
    o[5] = sub_sat(x, y);
    o[6] = mul_hi(x, y);
    o[7] = mad24(x & 0xffff, y & 0xffff, 3);
    __global uint *u = uout + i * 6;
    uint ux = (uint)x, uy = (uint)y;
    u[0] = min(ux, uy);
    u[1] = abs_diff(x, y);
    u[2] = popcount(ux);
    u[3] = clz(ux);
    u[4] = rotate(ux, uy);
    u[5] = hadd(ux, uy);
}
