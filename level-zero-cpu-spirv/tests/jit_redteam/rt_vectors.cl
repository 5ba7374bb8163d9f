// Vector types: float4, int3, vload/vstore of odd widths and offsets, shuffle/shuffle2 with
// run-time masks, swizzles on both sides, dynamic component indices.
__kernel void vec_mix(__global const float *in, __global float *out, __global const uint *masks) {
    int g = get_global_id(0);
    float4 a = vload4(g, in);
    float3 b = vload3(g, in + 1);
    float2 c = vload2(0, in + g * 3 + 2);
    float8 d = vload8(0, in + g);
    a.xz = a.zx * 2.0f;
    a.w += b.y;
    b.zyx = b.xyz + (float3)(c, a.w);
    uint4 m = (uint4)(masks[g] & 7, (masks[g] >> 3) & 7, (masks[g] >> 6) & 7, (masks[g] >> 9) & 7);
    float4 s = shuffle(d, m);
    float4 s2 = shuffle2(a, s, m);
    float2 hi = d.hi.odd;
    vstore4(s + s2, g, out);
    vstore3(b, g, out + 4 * get_global_size(0));
    vstore2(hi, g, out + 7 * get_global_size(0));
    out[9 * get_global_size(0) + g] = dot(a, s) + length(b) + distance(c, hi);
    float3 cr = cross(b, (float3)(c.y, hi.x, a.x));
    float4 cr4 = cross(a, s2);
    vstore3(cr, g, out + 10 * get_global_size(0));
    vstore4(cr4, g, out + 13 * get_global_size(0));
}

__kernel void int3_ops(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int3 a = vload3(g, in);
    int3 b = a.zxy;
    int3 c = a * b - (a >> 2) + select(a, b, a > b);
    int4 d = (int4)(c, a.x);
    d = d.wzyx + (int4)(b.xy, b.yz);
    vstore3(c, g, out);
    vstore4(d, g, out + 3 * get_global_size(0));
    __global int3 *p = (__global int3 *)(out + 7 * get_global_size(0));
    p[g] = c ^ b;
}

__kernel void dyn_index(__global const int *in, __global float *out) {
    int g = get_global_id(0);
    float8 v = (float8)(g, g + 1, g + 2, g + 3, g + 4, g + 5, g + 6, g + 7);
    for (int i = 0; i < 8; ++i) {
        int k = in[(g + i) % 16] & 7;
        v[k] = v[i] * 2.0f - v[k];
    }
    int j = in[g % 16] & 3;
    float4 w = v.lo;
    w[j] = 42.0f;
    vstore8(v, g, out);
    vstore4(w, g, out + 8 * get_global_size(0));
}

__kernel void uchar_vec(__global const uchar *in, __global uchar *out) {
    int g = get_global_id(0);
    uchar3 a = vload3(g, in);
    uchar16 b = vload16(0, in + g);
    uchar3 c = add_sat(a, b.s345) - a.s210 + (uchar3)(max(b.s0, b.sf));
    vstore3(c, g, out);
    uchar4 d = convert_uchar4_sat(convert_int4(b.lo.lo) * 3 - 100);
    vstore4(d, g, out + 3 * get_global_size(0));
}
