// Narrow element types under the vector path (their loads and stores go lane by lane:
// chars, shorts, halves, char/short vectors), and a struct argument passed by value (each
// work-item's own copy in private memory).
#pragma OPENCL EXTENSION cl_khr_fp16 : enable

static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

// c: 2 N chars; s: 2 N shorts; h: N halves; oc: 3 N chars; os: 3 N shorts; oh: 2 N halves.
__kernel void small_types(__global const char *c, __global const short *s,
                          __global const half *h, __global char *oc, __global short *os,
                          __global half *oh, int k) {
    size_t N = total(), i = lin();
    char a = c[i], b = c[2 * N - 1 - i];
    short x = s[2 * i], y = s[N - 1 - i];
    oc[i] = (char)(a * b + (char)k);
    oc[N + (N - 1 - i)] = (char)(a >> 2) ^ (char)i;
    oc[2 * N + i] = a < b ? a : b;
    os[i] = (short)(x * y);
    os[N + 2 * (i / 2) + (i & 1)] = (short)(x >> (k & 15));
    os[2 * N + i] = (short)((ushort)y >> 3) + (short)get_global_id(0);
    half hv = h[i];
    float f = vload_half(N - 1 - i, h);
    oh[i] = hv * (half)2.0 + (half)k;
    vstore_half(f * 0.5f + (float)i, N + i, oh);
}

// c4: N char4; s2: N short2; o4: N char4; o2: 2 N short2.
__kernel void small_vectors(__global const char4 *c4, __global const short2 *s2,
                            __global char4 *o4, __global short2 *o2) {
    size_t N = total(), i = lin();
    char4 v = c4[i] + c4[N - 1 - i].wzyx;
    short2 w = s2[i] * (short2)((short)i, 3);
    o4[i] = v ^ (char4)((char)i);
    o2[i] = w;
    o2[N + (N - 1 - i)] = convert_short2_sat(convert_int2(w) * 1000);
}

typedef struct {
    int a;
    long b;
    float c[3];
} P;

// A struct by value. out: 3 N ints.
__kernel void byval(__global const int *in, __global int *out, P p) {
    size_t N = total(), i = lin();
    int x = in[i];
    p.a += x;
    p.c[x & 1] *= 2.0f;
    out[i] = p.a;
    out[N + i] = (int)(p.b >> (i & 31));
    out[2 * N + i] = as_int(p.c[0] + p.c[1] + p.c[2]);
}
