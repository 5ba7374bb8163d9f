// OpenCL vectors inside each lane (a SIMD group of 4 lanes then holds 4 vectors):
// swizzles, component writes at a lane-dependent index, shuffles, vector compares and
// selects, conversions of whole vectors; uniform vector and struct arguments; __constant
// tables indexed per lane; a base pointer chosen per lane (consecutive indices but not
// consecutive addresses); a lane's own memory written and read back through other types.

typedef struct {
    float4 scale;
    int bias;
    short k[3];
} Params;

__constant int table[16] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
__constant float ftable[8] = {0.5f, -1.0f, 2.0f, 0.0f, -0.0f, 1e-40f, 3.5f, 100.0f};

__kernel void vec_lanes(__global const float4 *in, __global float4 *out, __global int4 *iout,
                        float4 u, Params prm, __constant int *ctab) {
    int g = get_global_id(0) - get_global_offset(0);
    int lid = get_local_id(0);
    float4 a = in[g];
    float4 b = a.wzyx * prm.scale + u;
    b[g & 3] = (float)table[g & 15];
    float8 w = (float8)(a, b);
    float4 c = w.s7351 - w.even + w.odd.yxwz;
    int4 m = a < b;
    float4 d = select(a, c, m);
    uint4 mask = (uint4)(g & 3, (g + 1) & 3, 3 - (g & 3), lid & 3);
    float4 e = shuffle(d, mask);
    float4 f = shuffle2(a, b, (uint4)(g & 7, 7 - (g & 7), 2, 5));
    int4 ci = convert_int4_sat_rte(f * 3.0f);
    int4 cz = convert_int4(clamp(d, -1e6f, 1e6f));
    float s = dot(a, (float4)(1.0f, 2.0f, 3.0f, 4.0f));
    out[g * 3] = c + e;
    out[g * 3 + 1] = d * ftable[lid & 7] + (float4)(s);
    out[g * 3 + 2] = (float4)(a.x, b.y, c.z, d.w) + (float4)(prm.k[g % 3]);
    iout[g * 2] = ci + (int4)(prm.bias + ctab[g % 5]);
    iout[g * 2 + 1] = cz ^ m ^ (int4)(any(m), all(m), any(a.xy != a.xy), table[lid & 15]);
}

// Each lane picks one of two buffers by its parity and indexes it by g: the indices are
// consecutive, the addresses are not.
__kernel void vec_select_base(__global const int *a, __global const int *b, __global int *oa, __global int *ob) {
    int g = get_global_id(0) - get_global_offset(0);
    __global const int *src = (g & 1) ? a : b;
    __global int *dst = (g & 2) ? oa : ob;
    dst[g] = src[g] * 2 + src[g + 1];
}

// A lane's own slot written as one type and read back as others (bytes, shorts, a vector
// over four lanes' worth of bytes written by the lane itself).
__kernel void vec_own_alias(__global int *buf, __global int *out) {
    int g = get_global_id(0) - get_global_offset(0);
    __global int *mine = buf + 4 * g;
    mine[0] = g * 0x01020304;
    mine[1] = -g;
    vstore2((int2)(g, ~g), 1, mine);
    __global uchar *b = (__global uchar *)mine;
    __global short *s = (__global short *)mine;
    int4 v = vload4(0, mine);
    out[g * 4 + 0] = b[1] + b[6] * 256;
    out[g * 4 + 1] = s[1] + s[5];
    out[g * 4 + 2] = v.x ^ v.y ^ v.z ^ v.w;
    b[3] = (uchar)g;
    out[g * 4 + 3] = mine[0];
}
