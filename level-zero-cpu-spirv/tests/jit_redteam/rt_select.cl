// select/bitselect with scalar and vector conditions (vector select looks at the MSB),
// ternaries on vectors, any/all.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void selects(__global const int *xs, __global int *out) {
    int g = get_global_id(0);
    int4 a = vload4(g, xs), b = vload4(g + 1, xs);
    int4 c = select(a, b, a);          // MSB of a
    int4 d = select(a, b, a < b);
    int4 e = bitselect(a, b, (int4)(0x0f0f0f0f));
    int s = select(a.x, b.x, a.y);     // scalar: nonzero
    long2 l = select(convert_long2(a.xy), convert_long2(b.xy), (long2)(-1, 0x7fffffffffffffffL));
    char4 ch = select(convert_char4(a), convert_char4(b), (char4)(-128, 127, 0, -1));
    float4 f = select(convert_float4(a), convert_float4(b), a > 0);
    double2 dd = select((double2)(a.x, a.y), (double2)(b.x, b.y), (long2)(a.z, b.z));
    int4 t = a > b ? a : b;
    vstore4(c, g, out);
    vstore4(d, g, out + 4 * get_global_size(0));
    vstore4(e, g, out + 8 * get_global_size(0));
    vstore4(t, g, out + 12 * get_global_size(0));
    int base = 16 * get_global_size(0) + g * 10;
    out[base + 0] = s;
    out[base + 1] = (int)l.x;
    out[base + 2] = (int)(l.y >> 1);
    out[base + 3] = as_int(ch);
    out[base + 4] = (int)(f.x + f.y + f.z + f.w);
    out[base + 5] = (int)(dd.x * 3 + dd.y);
    out[base + 6] = any(a) + 2 * all(a) + 4 * any(d) + 8 * all(a > -1000);
    out[base + 7] = bitselect(a.x, b.x, a.z);
    out[base + 8] = as_int(bitselect(as_float(a.x), as_float(b.x), as_float(a.w)));
    out[base + 9] = (a.x > 0) ? ((b.x > 0) ? 1 : 2) : ((a.y & 1) ? 3 : 4);
}
