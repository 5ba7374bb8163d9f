// Vector types as tutorials and conformance tests use them: swizzles on both sides,
// component-wise arithmetic, vloadN/vstoreN at misaligned offsets (vload3/vstore3 included),
// vload_half/vstore_half with every rounding mode, as_typeN, shuffle/shuffle2 with
// constant and run-time masks, relational built-ins on vectors.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void swizzle_mix(__global const float4 *in, __global float4 *out, __global float2 *out2) {
    size_t i = get_global_id(0);
    float4 a = in[i];
    float4 b = in[(i + 1) % get_global_size(0)];
    float4 c;
    c.xy = a.zw + b.yx;
    c.zw = a.xy * b.ww;
    c.x -= a.w;
    float4 d = c.wzyx * (float4)(1.0f, -2.0f, 0.5f, 4.0f) + a.xxyy - b.s3210;
    d.s13 = d.s31;
    float8 e = (float8)(a, d);
    float8 f = e.s76543210 + (float8)(b.lo, c.hi, d.even, a.odd);
    out[2 * i] = f.lo + f.hi;
    out[2 * i + 1] = (float4)(e.s0, f.s7, dot(a, b), length(c.xyz));
    out2[i] = a.hi.yx + b.lo;
}

__kernel void int_vectors(__global const int4 *in, __global int4 *out, __global uchar16 *bytes) {
    size_t i = get_global_id(0);
    int4 a = in[i];
    int4 b = in[i ^ 1];
    int4 q = a / ((b & 15) | 1);          // divisor never 0
    int4 r = a % ((b & 7) + 1);
    int4 s = (a << (b & 31)) ^ (a >> (b.wzyx & 31));
    int4 m = max(a, b) - min(a, b);
    int4 c = a == b;                       // -1 / 0
    int4 d = a < b;
    out[4 * i] = q;
    out[4 * i + 1] = r;
    out[4 * i + 2] = s + m;
    out[4 * i + 3] = (c & 1) + (d & 2) + (~a & b) + (a != 0);
    uchar16 u = as_uchar16(a);
    uchar16 v = as_uchar16(b);
    bytes[i] = u + v * (uchar)3 + as_uchar16(u > v) + rotate(u, (uchar16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
}

// vloadN / vstoreN at every misalignment: element offsets are not multiples of N.
__kernel void vload_vstore(__global const float *in, __global float *out, __global const short *sin, __global short *sout, int shift) {
    size_t i = get_global_id(0);
    float2 a2 = vload2(i, in + shift);
    float3 a3 = vload3(i, in + 1);
    float4 a4 = vload4(0, in + i * 3 + shift);
    float8 a8 = vload8(0, in + i + 5);
    float16 a16 = vload16(0, in + i * 2 + 1);
    vstore3(a3 * 2.0f + (float3)(a2, a4.w), i, out);
    vstore2(a2 - a4.zw, i, out + 3 * get_global_size(0) + 1);
    vstore4(a8.lo * a8.hi, 0, out + 5 * get_global_size(0) + i * 4 + 3);
    float s = 0.0f;
    for (int k = 0; k < 16; ++k)
        s += a16[k] * (float)(k + 1);
    out[9 * get_global_size(0) + 3 + i] = s + a16.sf - a16.sa;
    short3 s3 = vload3(i, sin + 2);
    short8 s8 = vload8(0, sin + i);
    vstore3(s3 + s8.s123, i, sout + 1);
    vstore8(s8 * (short)-3 + (short8)(s3, s3, s3.xy), i, sout + 3 * get_global_size(0) + 4);
}

__kernel void half_io(__global const float *in, __global half *h, __global float *back) {
    size_t i = get_global_id(0);
    float x = in[i];
    vstore_half(x, i * 5, h);
    vstore_half_rte(x, i * 5 + 1, h);
    vstore_half_rtz(x, i * 5 + 2, h);
    vstore_half_rtp(x, i * 5 + 3, h);
    vstore_half_rtn(x, i * 5 + 4, h);
    float4 f4 = (float4)(x, -x, x * 0.5f, x * 65536.0f);
    vstore_half4_rtz(f4, i, h + 5 * get_global_size(0));
    vstorea_half2_rtp(f4.hi, i, h + 10 * get_global_size(0));
    double dx = (double)x * 1.0000000001;
    vstore_half_rtn(dx, i, h + 12 * get_global_size(0) + 2);
    vstore_half3(f4.xyz, i, h + 13 * get_global_size(0) + 3);
    barrier(CLK_GLOBAL_MEM_FENCE);
    float r = vload_half(i * 5 + 4, h) + vload_half(i * 5 + 3, h);
    float4 v = vload_half4(i, h + 5 * get_global_size(0));
    float3 w = vload_half3(i, h + 13 * get_global_size(0) + 3);
    back[2 * i] = r;
    back[2 * i + 1] = v.x + v.y + v.w + w.z;
}

__kernel void as_types(__global const uint4 *in, __global uint4 *out) {
    size_t i = get_global_id(0);
    uint4 a = in[i];
    float4 f = as_float4(a);
    short8 s = as_short8(a);
    char16 c = as_char16(a);
    double2 d = as_double2(a);
    long2 l = as_long2(a);
    int4 r0 = as_int4(f * 2.0f);
    uint4 r1 = as_uint4(s >> (short)3);
    uint4 r2 = as_uint4(abs(c));
    uint4 r3 = as_uint4(d + 1.0);
    uint4 r4 = as_uint4(l >> 17);
    float3 f3 = as_float3(a);       // float3 and uint4 are both 16 bytes
    out[6 * i] = as_uint4(r0);
    out[6 * i + 1] = r1;
    out[6 * i + 2] = r2;
    out[6 * i + 3] = r3;
    out[6 * i + 4] = r4;
    out[6 * i + 5] = (uint4)(as_uint(f3.z), as_uint(as_float2(a.xy).y), (uint)as_ushort2(a.w).y * 3u, (uint)as_char4(a.x).w);
}

// shuffle / shuffle2 with constant masks (OpVectorShuffle) and run-time masks.
__kernel void shuffles(__global const int8 *in, __global const uint *masks, __global int8 *out) {
    size_t i = get_global_id(0);
    int8 a = in[i];
    int8 b = in[(i + 3) % get_global_size(0)];
    uint8 m = (uint8)(masks[i] & 7, masks[i] >> 3 & 7, masks[i] >> 6 & 7, masks[i] >> 9 & 7,
                      masks[i] >> 12 & 15, masks[i] >> 16 & 15, masks[i] >> 20 & 15, masks[i] >> 24 & 15);
    int8 s1 = shuffle(a, m);
    int8 s2 = shuffle2(a, b, m);
    int4 s3 = shuffle(a, (uint4)(7, 0, 7, 3));
    int16 s4 = shuffle2(a.lo, b.hi, (uint16)(0, 7, 1, 6, 2, 5, 3, 4, 4, 3, 5, 2, 6, 1, 7, 0));
    out[3 * i] = s1 + s2;
    out[3 * i + 1] = (int8)(s3, s4.lo.lo) ^ s4.hi;
    out[3 * i + 2] = s4.even * 3 - s4.odd;
}

__kernel void relational_vec(__global const float4 *x, __global const float4 *y, __global int4 *out, __global double2 *dout) {
    size_t i = get_global_id(0);
    float4 a = x[i], b = y[i];
    int4 r = isnan(a) & 1;
    r |= (isinf(a) & 1) << 1;
    r |= (signbit(a) & 1) << 2;
    r |= (isfinite(a) & 1) << 3;
    r |= (isnormal(a) & 1) << 4;
    r |= (isgreater(a, b) & 1) << 5;
    r |= (islessequal(a, b) & 1) << 6;
    r |= (isunordered(a, b) & 1) << 7;
    r |= (islessgreater(a, b) & 1) << 8;
    r |= (isequal(a, b) & 1) << 9;
    r |= ((a != b) & 1) << 10;
    out[3 * i] = r;
    int4 m = isless(a, b);
    out[3 * i + 1] = (int4)(any(m), all(m), any(isnan(b)), all(isfinite(a)))
                     | (int4)(any(as_int4(a)), all(as_int4(b)), any((short4)(-1, 0, 0, 0) & convert_short4(m)), all((char4)(-1)));
    float4 s = select(a, b, m);
    float4 bs = bitselect(a, b, as_float4((uint4)(0x80000000u, 0x7fffffffu, 0xff800000u, 0x007fffffu)));
    out[3 * i + 2] = as_int4(s) ^ as_int4(bs);
    double2 da = convert_double2(a.xy), db = convert_double2(b.zw);
    long2 dm = isgreaterequal(da, db);
    dout[i] = select(da, db, dm) + (double2)(any(isnan(da)), all(signbit(db)));
}
