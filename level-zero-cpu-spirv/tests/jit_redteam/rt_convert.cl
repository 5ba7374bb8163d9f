// Conversions with rounding modes and saturation, float/double to integers of every width
// and back.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void f2i(__global const float *xs, __global int *out) {
    int g = get_global_id(0);
    float x = xs[g];
    int b = g * 24;
    out[b + 0] = convert_int(x == x && fabs(x) < 2e9f ? x : 0.0f);
    out[b + 1] = convert_int_sat(x);
    out[b + 2] = convert_int_sat_rtn(x);
    out[b + 3] = convert_int_sat_rtp(x);
    out[b + 4] = convert_int_sat_rte(x);
    out[b + 5] = convert_int_sat_rtz(x);
    out[b + 6] = convert_int_rtn(fabs(x) < 2e9f ? x : 0.0f);
    out[b + 7] = convert_int_rtp(fabs(x) < 2e9f ? x : 0.0f);
    out[b + 8] = convert_char_sat(x);
    out[b + 9] = convert_uchar_sat_rte(x);
    out[b + 10] = convert_short_sat_rtn(x);
    out[b + 11] = convert_ushort_sat_rtp(x);
    out[b + 12] = (int)convert_uint_sat(x);
    out[b + 13] = (int)convert_uint_sat_rtn(x);
    long l = convert_long_sat_rtp(x);
    out[b + 14] = (int)l;
    out[b + 15] = (int)(l >> 32);
    ulong ul = convert_ulong_sat_rte(x);
    out[b + 16] = (int)ul;
    out[b + 17] = (int)(ul >> 32);
    out[b + 18] = as_int(convert_float_rtz((double)x * 1.0000001));
    out[b + 19] = as_int(convert_float_rtp(g * 16777217));
    out[b + 20] = as_int(convert_float_rtn(-g * 16777219));
    out[b + 21] = as_int(convert_float((ulong)l));
    out[b + 22] = as_int(convert_float_rtz((long)ul));
    out[b + 23] = convert_int_sat_rtn((double)x * 3.5);
}

__kernel void i2i(__global const long *xs, __global long *out) {
    int g = get_global_id(0);
    long x = xs[g];
    int b = g * 12;
    out[b + 0] = convert_char_sat(x);
    out[b + 1] = convert_uchar_sat(x);
    out[b + 2] = convert_short_sat(x);
    out[b + 3] = convert_ushort_sat(x);
    out[b + 4] = convert_int_sat(x);
    out[b + 5] = convert_uint_sat(x);
    out[b + 6] = (long)convert_ulong_sat(x);
    out[b + 7] = convert_char(x) + convert_uchar(x) * 1000L;
    out[b + 8] = convert_int_sat((ulong)x);
    out[b + 9] = convert_long_sat((ulong)x);
    out[b + 10] = (long)convert_uint_sat((int)x);
    out[b + 11] = convert_short_sat((uint)x);
}

__kernel void d2i(__global const double *xs, __global long *out) {
    int g = get_global_id(0);
    double x = xs[g];
    int b = g * 8;
    out[b + 0] = convert_long_sat(x);
    out[b + 1] = convert_long_sat_rtn(x);
    out[b + 2] = convert_long_sat_rtp(x);
    out[b + 3] = convert_int_sat_rte(x);
    out[b + 4] = (long)convert_ulong_sat_rtz(x);
    out[b + 5] = as_long(convert_double_rtp(convert_long_sat(x)));
    out[b + 6] = as_int(convert_float_rtn(x));
    out[b + 7] = as_int(convert_float_rtp(x));
}

__kernel void vec_conv(__global const float4 *xs, __global int4 *out, __global short8 *sout) {
    int g = get_global_id(0);
    float4 x = xs[g];
    out[g] = convert_int4_sat_rtn(x * 1000.0f);
    sout[g] = convert_short8_sat_rte((float8)(x, x * -70000.0f));
}
