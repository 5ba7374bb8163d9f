// Reinterpreting casts between scalar and vector shapes of the same size, and shuffles.
__kernel void bitcasts(__global const uint *in, __global uint *out, __global uchar4 *bytes,
                       __global float2 *pairs, __global short8 *shorts) {
    size_t i = get_global_id(0);
    uint x = in[i];
    uchar4 b = as_uchar4(x);            // uint -> uchar4
    bytes[i] = b.wzyx;
    out[i * 3] = as_uint(b.wzyx);       // uchar4 -> uint
    ulong w = ((ulong)x << 32) | (x ^ 0xffffffffu);
    float2 f = as_float2(w);            // ulong -> float2
    pairs[i] = f;
    out[i * 3 + 1] = (uint)(as_ulong(f.yx) >> 16);
    int4 q = (int4)(x, x + 1, x + 2, x + 3);
    shorts[i] = as_short8(q);           // int4 -> short8
    out[i * 3 + 2] = as_uint((ushort2)(as_ushort2(x).y, as_ushort2(x).x));
}

// shuffle / shuffle2 with run-time masks.
__kernel void shuffles(__global const int4 *in, __global const uint4 *masks, __global int8 *out,
                       __global int4 *out2) {
    size_t i = get_global_id(0);
    int4 x = in[i];
    int4 y = in[i] * 10;
    uint4 m = masks[i];
    out[i] = shuffle(x, (uint8)(m, m.wzyx));
    out2[i] = shuffle2(x, y, m);
}
