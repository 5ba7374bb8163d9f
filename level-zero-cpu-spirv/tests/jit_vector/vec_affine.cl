// Affine addresses of the vector path (lane l = lane 0 + l * stride): negative strides,
// strides 2, 3 and 8, shifts and multiplies by constants, size_t/int index mixing (an int
// cast breaks affinity), pointer arithmetic on __global and __local, a[i + k] with a
// loop-variant uniform k, pointer phis, ids stored as values, and 64-bit wrap-around offsets.
// Every kernel indexes with `lin()`, the work-item's linear index from 0 whatever the global
// offset, so that buffers stay small; `total()` work-items in all.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

static size_t llin(void) {
    return (get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) +
           get_local_id(0);
}

static size_t ltotal(void) {
    return get_local_size(0) * get_local_size(1) * get_local_size(2);
}

// in: 9 N + 80 ints; out: 24 N ints. k in [0, 64]; big + big2 == 0 (mod 2^64), big2 != 0.
__kernel void aff_load(__global const int *in, __global int *out, int k, ulong big, ulong big2) {
    size_t N = total(), i = lin();
    int ii = (int)i;
    out[0 * N + i] = in[N - 1 - i];
    out[1 * N + i] = in[2 * i];
    out[2 * N + i] = in[3 * i + 1];
    out[3 * N + i] = in[8 * i + 7];
    out[4 * N + i] = in[i << 3];
    out[5 * N + i] = in[(i << 4) >> 1];
    out[6 * N + i] = in[ii * 3];
    out[7 * N + i] = in[(uint)i + 5u];
    out[8 * N + i] = in[2 * N - 1 - 2 * i];
    out[9 * N + i] = in[(i + big) + big2];
    out[10 * N + i] = in[i * 0x4000000000000001UL];
    out[11 * N + i] = in[(long)ii - (long)N + (long)(2 * N)];
    out[12 * N + i] = in[(size_t)(ii * 2) + i];
    out[13 * N + i] = in[i + (size_t)k];
    out[14 * N + i] = in[i - (size_t)k + 64];
    out[15 * N + i] = in[i ^ 1];
    out[16 * N + i] = in[i * 0xFFFFFFFFFFFFFFFFUL + (N - 1)];
    out[17 * N + i] = in[(N - 1) - (size_t)ii];
    out[18 * N + i] = *(in + 9 * N + 79 - i - k);
    __global const int *p = in + 4 * N;
    out[19 * N + i] = p[i - 2 * N] + p[-(long)i] + p[(long)i - (long)N];
    out[20 * N + i] = in[(i * 5) & (8 * N - 1)];
    out[21 * N + i] = in[get_global_id(0) - get_global_offset(0) + get_global_size(0) * 0];
    out[22 * N + i] = in[(i + (size_t)k * 0x100000000UL) - (size_t)k * 0x100000000UL + 7];
    out[23 * N + i] = in[(ulong)(uint)(ii * 4) >> 2];
}

// out: 9 N ints; outl: 6 N longs; outd: 2 N doubles; in: N ints.
__kernel void aff_store(__global const int *in, __global int *out, __global long *outl,
                        __global double *outd, int k) {
    size_t N = total(), i = lin();
    int v = in[i];
    out[N - 1 - i] = v;
    out[N + 2 * i] = v + 1;
    out[N + 2 * i + 1] = v + 2;
    out[3 * N + 3 * (N - 1 - i)] = v * 3;
    out[3 * N + 3 * (N - 1 - i) + 2] = v * 5;
    out[3 * N + 3 * (N - 1 - i) + 1] = (int)i;
    out[6 * N + i] = (int)get_global_id(0);
    out[7 * N + i] = (int)(get_global_id(0) * 3) + k;
    out[8 * N + ((i ^ 3) < N ? (i ^ 3) : i)] = (int)(i << 2);
    outl[i] = (long)i;
    outl[N + i] = (long)(i * 3 + 7);
    outl[2 * N + (N - 1 - i)] = (long)(int)i;
    outl[3 * N + i] = (long)get_global_id(0) - (long)get_global_offset(0) * 2;
    outl[4 * N + i] = (long)(int)get_global_id(0);
    outl[5 * N + i] = (long)(i << 40) + (long)(i * 0x4000000000000001UL);
    outd[i] = (double)i;
    outd[N + (N - 1 - i)] = (double)(long)(int)get_global_id(0);
}

typedef struct {
    int a;
    float b;
    long c;
    short d;
} S;

// in: N S; out: 2 N S; f4: N float4; o4: N float4; of: 6 N floats.
__kernel void aff_struct(__global const S *in, __global S *out, __global const float4 *f4,
                         __global float4 *o4, __global float *of) {
    size_t N = total(), i = lin();
    S s = in[N - 1 - i];
    s.a += (int)i;
    s.c -= (long)i;
    s.b *= 2.0f;
    s.d ^= (short)i;
    out[i] = s;
    out[N + i].a = in[i].a;
    out[N + i].b = in[(2 * i) % N].b;
    out[N + i].c = in[i].c + in[N - 1 - i].c;
    out[N + i].d = in[i / 2].d;
    float4 v = f4[i];
    o4[N - 1 - i] = v.wzyx;
    of[4 * i + 0] = v.x;
    of[4 * i + 1] = v.y;
    of[4 * i + 2] = v.z;
    of[4 * i + 3] = v.w;
    of[4 * N + i] = f4[i].y + f4[N - 1 - i].z;
    __global const float *fp = (__global const float *)f4;
    of[5 * N + i] = fp[i] * fp[4 * i + 3] - fp[2 * i + 1];
}

// Local memory through pointers: stride 2 and 3 pointers, a reversed pointer, a pointer
// argument. out: 6 N ints; scratch: 2 L ints.
__kernel void aff_local(__global const int *in, __global int *out, __local int *scratch) {
    __local int tile[3 * 256];
    size_t N = total(), i = lin();
    size_t l = llin(), L = ltotal();
    __local int *p = scratch + 2 * l;
    p[0] = in[i];
    p[1] = -in[i];
    __local int *q = tile + 3 * l;
    q[0] = in[i] * 3;
    q[1] = (int)l;
    q[2] = (int)i;
    __local int *r = tile + 3 * L - 1 - l;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[i] = scratch[2 * (L - 1 - l)] + scratch[2 * l + 1];
    out[N + i] = tile[3 * (L - 1 - l) + 2] + tile[((l + 1) % L) * 3];
    out[2 * N + i] = *r + r[-2];
    out[3 * N + i] = p[1] + q[1] + q[2];
    barrier(CLK_LOCAL_MEM_FENCE);
    r[0] = (int)l * 7;
    p[0] = (int)i;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[4 * N + i] = tile[3 * L - 1 - l] + scratch[2 * l];
    __local long *lp = (__local long *)scratch;
    out[5 * N + i] = (int)(lp[l] >> 16);
}

// Loops: a[i + k] with k uniform and loop-variant, stores inside the loop, pointer phis
// with an affine start and a uniform step. in: (n + 2) N ints; out: (n + 2) N ints.
__kernel void aff_loop(__global const int *in, __global int *out, int n) {
    size_t N = total(), i = lin();
    int acc = 0;
    for (int k = 0; k < n; k++) {
        acc += in[i + k];
        acc ^= in[N + i - k] << 1;
        out[(k + 1) * N + i] = acc;
    }
    __global const int *p = in + i;
    __global const int *q = in + (n + 1) * N + (N - 1 - i);
    long lacc = 0;
    for (int k = 0; k < n; k++) {
        lacc += (long)*p * (long)*q;
        p += N;
        q -= N / 2;
    }
    __global int *o = out + (n + 1) * N + i;
    for (size_t k = 0; k < 4; k++) {
        if (k == (size_t)(n & 3))
            *o = (int)lacc + acc;
    }
    out[i] = (int)(lacc >> 32);
}

// Wide values of vector types mixing uniform and varying components (a long2 whose first
// component is the same in every lane). in: N longs; out: 2 N ulong2.
__kernel void aff_vec_mixed(__global const ulong *in, __global ulong2 *out, ulong u) {
    size_t N = total(), i = lin();
    ulong2 v = (ulong2)(u, in[i]);
    v = v + (ulong2)(3, 5);
    out[i] = v;
    long2 w = (long2)((long)u, (long)i) * (long2)(3, 3) - (long2)(1, (long)in[N - 1 - i]);
    out[N + i] = as_ulong2(w);
}
