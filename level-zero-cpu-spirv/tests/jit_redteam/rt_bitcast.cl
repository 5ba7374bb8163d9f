// Reinterpretation (as_*) between scalars and vectors of different element widths, and a
// union in private memory.
typedef union { float f[2]; int i[2]; long l; uchar b[8]; } U;

__kernel void casts(__global const uint *in, __global uint *out) {
    int g = get_global_id(0);
    uint x = in[g], y = in[g + 1];
    float f = as_float(x);
    uchar4 b = as_uchar4(x);
    short2 s = as_short2(y);
    ulong l = as_ulong((uint2)(x, y));
    float2 f2 = as_float2(l);
    char8 c8 = as_char8(l);
    int3 i3 = (int3)(x, y, x ^ y);
    float3 f3 = as_float3(i3);
    U u;
    u.l = (long)l;
    u.f[g & 1] += 1.0f;
    u.b[g & 7] ^= 0xff;
    out[g * 10 + 0] = as_uint(f * 2.0f);
    out[g * 10 + 1] = as_uint(b.wzyx + (uchar4)(1));
    out[g * 10 + 2] = as_uint(s.yx);
    out[g * 10 + 3] = as_uint(f2.y);
    out[g * 10 + 4] = as_uint(as_char4(c8.s7531) + (char4)(-1));
    out[g * 10 + 5] = as_uint(f3.z);
    out[g * 10 + 6] = (uint)u.l;
    out[g * 10 + 7] = (uint)(u.l >> 32);
    out[g * 10 + 8] = (uint)u.i[(g + 1) & 1];
    out[g * 10 + 9] = as_uint(as_ushort2(f) + (ushort2)(g, 1));
}
