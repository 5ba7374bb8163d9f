// convert_typeN with every rounding mode and saturation, in vector forms, on edge values:
// NaN, infinities, signed zeros, denormals, 2^31, -2^31-1, 2^63, halves (ties). Only
// saturating conversions see out-of-range values (the others are undefined there).
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void conv_f2i(__global const float4 *xs, __global int4 *out) {
    size_t i = get_global_id(0);
    float4 x = xs[i];
    __global int4 *o = out + i * 16;
    o[0] = convert_int4_sat(x);
    o[1] = convert_int4_sat_rte(x);
    o[2] = convert_int4_sat_rtz(x);
    o[3] = convert_int4_sat_rtp(x);
    o[4] = convert_int4_sat_rtn(x);
    o[5] = as_int4(convert_uint4_sat_rte(x));
    o[6] = as_int4(convert_uint4_sat_rtn(x));
    o[7] = as_int4(convert_char16_sat_rtp((float16)(x, x * 100.0f, x * -0.5f, x + 0.5f)));
    o[8] = as_int4(convert_uchar16_sat((float16)(x, x * 100.0f, x * -0.5f, x + 0.5f)));
    o[9] = as_int4(convert_short8_sat_rte((float8)(x, x * 1000.0f)));
    o[10] = as_int4(convert_ushort8_sat_rtz((float8)(x, x * 1000.0f)));
    long2 l0 = convert_long2_sat_rtn(x.xy), l1 = convert_long2_sat_rtp(x.zw);
    o[11] = as_int4(l0);
    o[12] = as_int4(l1);
    o[13] = as_int4(convert_ulong2_sat_rte(x.yz));
    float4 inr = clamp(x, -1.0e9f, 1.0e9f);
    inr = select(inr, (float4)(0.0f), isnan(inr));
    o[14] = convert_int4(inr) + convert_int4_rte(inr) * 3;
    o[15] = convert_int4_rtp(inr) ^ convert_int4_rtn(inr);
}

__kernel void conv_d2i(__global const double2 *xs, __global long2 *out) {
    size_t i = get_global_id(0);
    double2 x = xs[i];
    __global long2 *o = out + i * 10;
    o[0] = convert_long2_sat(x);
    o[1] = convert_long2_sat_rte(x);
    o[2] = convert_long2_sat_rtp(x);
    o[3] = convert_long2_sat_rtn(x);
    o[4] = as_long2(convert_ulong2_sat_rtz(x));
    o[5] = convert_long2(convert_int2_sat_rte(x));
    o[6] = convert_long2(convert_uint2_sat_rtp(x));
    o[7] = as_long2((int4)(convert_int2_sat_rtn(x), convert_int2_sat_rtz(x)));
    o[8] = as_long2(convert_float4_rtz((double4)(x, -x)));
    o[9] = as_long2(convert_float4_rtp((double4)(x, x * 1.5)));
}

// Integers to float with rounding modes: values that are not representable.
__kernel void conv_i2f(__global const int4 *xs, __global const long2 *ls, __global uint4 *out) {
    size_t i = get_global_id(0);
    int4 x = xs[i];
    long2 l = ls[i];
    __global uint4 *o = out + i * 10;
    o[0] = as_uint4(convert_float4(x));
    o[1] = as_uint4(convert_float4_rtz(x));
    o[2] = as_uint4(convert_float4_rtp(x));
    o[3] = as_uint4(convert_float4_rtn(x));
    o[4] = as_uint4(convert_float4_rte(as_uint4(x)));
    o[5] = as_uint4(convert_float4_rtn(as_uint4(x)));
    o[6] = as_uint4((float4)(convert_float2_rtz(l), convert_float2_rtp(l)));
    o[7] = as_uint4((float4)(convert_float2_rtn(as_ulong2(l)), convert_float2(as_ulong2(l))));
    o[8] = as_uint4(convert_double2_rtz(l));
    o[9] = as_uint4(convert_double2(as_ulong2(l)));
}

// Integer to integer, saturating and not, every direction, vector forms.
__kernel void conv_i2i(__global const long4 *xs, __global uint4 *out) {
    size_t i = get_global_id(0);
    long4 x = xs[i];
    __global uint4 *o = out + i * 8;
    o[0] = as_uint4((char16)(convert_char4_sat(x), convert_char4(x), convert_char4_sat(as_ulong4(x)), convert_char4_sat(convert_int4(x))));
    o[1] = as_uint4((uchar16)(convert_uchar4_sat(x), convert_uchar4(x), convert_uchar4_sat(as_ulong4(x)), convert_uchar4_sat(convert_short4(x))));
    o[2] = as_uint4((short8)(convert_short4_sat(x), convert_short4_sat(convert_uint4(x))));
    o[3] = as_uint4((ushort8)(convert_ushort4_sat(x), convert_ushort4_sat(convert_char4(x))));
    o[4] = as_uint4(convert_int4_sat(x));
    o[5] = convert_uint4_sat(x);
    o[6] = as_uint4(convert_long2_sat(as_ulong2(x.xy)));
    o[7] = as_uint4(convert_ulong2_sat(x.zw));
}

// float <-> double <-> half round trips of denormals and edge values.
__kernel void conv_fd(__global const double *xs, __global uint *out) {
    size_t i = get_global_id(0);
    double x = xs[i];
    float f = (float)x;
    __global uint *o = out + i * 8;
    o[0] = as_uint(f);
    o[1] = as_uint(convert_float_rtz(x));
    o[2] = as_uint(convert_float_rtp(x));
    o[3] = as_uint(convert_float_rtn(x));
    double back = f;
    o[4] = (uint)(as_ulong(back) >> 32);
    o[5] = (uint)as_ulong(back);
    ushort hs[2];
    __private half *h = (__private half *)hs;
    vstore_half_rtz(x, 0, h);
    vstore_half_rtp(f, 1, h);
    o[6] = as_uint(vload_half(0, h)) ^ 0x1;
    o[7] = as_uint(vload_half(1, h));
}
