// build: -cl-std=CL2.0
// Kernel arguments of every kind tutorials pass: structs by value, vectors by value
// (float4, int3, uchar4, double2), char/short/uchar/half-sized scalars, many arguments;
// kernel-scope __local arrays next to __local pointer arguments; program-scope globals that
// keep state between launches; a kernel called as a function by another; 64-bit and float
// atomics; reqd_work_group_size.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable

typedef struct {
    int n;
    float scale;
    float4 offset;
    char tag;
    short bias;
    double d;
} Params;

typedef struct {
    uchar r, g, b, a;
} Pixel;

__kernel void by_value(__global float4 *out, __global int *iout, Params p, float4 v, int3 dims, uchar4 col,
                       double2 dd, char c, short s, uchar uc, ushort us, long l, ulong ul) {
    int g = get_global_id(0);
    if (g >= p.n)
        return;
    float4 r = v * p.scale + p.offset + (float4)(dims.x, dims.y, dims.z, (float)g);
    r += convert_float4(col) * (float)c;
    out[g] = r;
    iout[g * 4] = p.tag * 1000 + p.bias + s;
    iout[g * 4 + 1] = (int)(dd.x * 100.0 + dd.y + p.d);
    iout[g * 4 + 2] = uc + us * 3 + (int)(l >> 20) + (int)(ul >> 40);
    iout[g * 4 + 3] = dims.x * dims.y * dims.z + g * (c < 0 ? -1 : 1);
}

__kernel void pixels(__global const Pixel *in, __global Pixel *out, Pixel tint, int n) {
    int g = get_global_id(0);
    if (g < n) {
        Pixel p = in[g];
        Pixel q;
        q.r = add_sat(p.r, tint.r);
        q.g = sub_sat(p.g, tint.g);
        q.b = (uchar)((p.b * tint.b) >> 8);
        q.a = max(p.a, tint.a);
        out[g] = q;
    }
}

// kernel-scope __local arrays and two __local pointer arguments in one kernel.
__kernel void mixed_local(__global const int *in, __global int *out, __local int *a, __local int *b) {
    __local int s1[64];
    __local short s2[65];
    int l = get_local_id(0), L = get_local_size(0);
    a[l] = in[get_global_id(0)];
    b[L - 1 - l] = a[l] * 2;
    s1[l] = l;
    s2[l + 1] = (short)(l * 3);
    if (l == 0)
        s2[0] = -1;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = a[(l + 1) % L] + b[l] + s1[L - 1 - l] + s2[l];
}

// Program-scope state (OpenCL C 2.0): a launch counter and a running sum.
__global int launches = 0;
__global long running[4] = {1, 2, 3, 4};

__kernel void stateful(__global const int *in, __global long *out) {
    int g = get_global_id(0);
    if (g == 0)
        launches++;
    atomic_fetch_add_explicit((volatile __global atomic_long *)&running[g & 3], (long)in[g], memory_order_relaxed);
    work_group_barrier(CLK_GLOBAL_MEM_FENCE);
    out[g] = launches;
}

__kernel void read_state(__global long *out) {
    int g = get_global_id(0);
    if (g < 4)
        out[g] = running[g];
}

// A kernel called as an ordinary function by another kernel.
__kernel void scale_one(__global float *x, float f) {
    x[get_global_id(0)] *= f;
}

__kernel void scale_twice(__global float *x, float f) {
    scale_one(x, f);
    scale_one(x, f + 1.0f);
}

// 64-bit atomics and float exchange (order-independent results).
__kernel void atom64(__global const long *in, __global long *acc, __global float *fx) {
    int g = get_global_id(0);
    long v = in[g];
    atom_add(&acc[0], v);
    atom_min(&acc[1], v);
    atom_max(&acc[2], v);
    atom_or(&acc[3], v & 0xff00ff00ff00ffL);
    atom_inc((__global ulong *)&acc[4]);
    atom_xor(&acc[5], v);
    atom_and(&acc[6], v | 0x1111);
    float old = atomic_xchg(&fx[g], (float)g * 0.5f);
    fx[get_global_size(0) + g] = old;
}

__attribute__((reqd_work_group_size(16, 1, 1)))
__kernel void fixed16(__global int *out) {
    __local int t[16];
    int l = get_local_id(0);
    t[l] = l * l;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = t[15 - l] + (int)get_local_size(0);
}

// Many arguments, some unused.
__kernel void many_args(__global int *o, int a0, int a1, long a2, float a3, __global const int *p1, int a4,
                        double a5, __local int *scratch, uint a6, __global const float *p2, short a7, int a8) {
    int g = get_global_id(0);
    scratch[get_local_id(0)] = a0 + a1;
    barrier(CLK_LOCAL_MEM_FENCE);
    o[g] = scratch[0] + (int)a2 + (int)(a3 * 2.0f) + p1[g] + a4 + (int)a5 + (int)a6 + (int)p2[g] + a7 + a8;
}
