// Vector types, swizzles and component-wise operations.
__kernel void vector_ops(__global const float4 *a, __global const float4 *b, __global float4 *out,
                         __global int4 *iout) {
    size_t i = get_global_id(0);
    float4 x = a[i], y = b[i];
    out[i * 4 + 0] = x + y * 2.0f;
    out[i * 4 + 1] = x.wzyx;                            // swizzle
    out[i * 4 + 2] = (float4)(x.xy, y.s3, dot(x, y));   // construct from parts
    float4 z = x;
    z.yw = y.xz;                                        // swizzled store
    out[i * 4 + 3] = z * x.y;
    int4 c = x < y;                                     // vector compare: -1 / 0
    iout[i * 2] = c;
    iout[i * 2 + 1] = convert_int4(x) + (int4)(1, 2, 3, 4);
}

// float3 (sizeof 16) and wide vectors.
__kernel void vector3_ops(__global const float *a, __global float *out, __global uchar16 *bytes) {
    size_t i = get_global_id(0);
    float3 v = vload3(i, a);
    float3 w = cross(v, (float3)(1.0f, 2.0f, 3.0f));
    vstore3(w + v.zxy, i, out);
    uchar16 u = (uchar16)((uchar)i);
    u.s05af = (uchar4)(1, 2, 3, 4);
    bytes[i] = u + (uchar16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
