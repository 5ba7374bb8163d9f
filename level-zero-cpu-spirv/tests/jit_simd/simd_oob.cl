// Out-of-bounds accesses by exactly one work-item (or two at the same access), the others
// in bounds: the test passes buffers one element short, so that a vector access of 4
// consecutive lanes covers the end of the buffer and only its last (or first) lane faults.
// Both engines must report the same fault (work-item, address, size, write).
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

typedef struct __attribute__((packed)) {
    char c;
    int i;
    short s;
} P7;

#define COPY(T, NAME)                                                                        \
    __kernel void NAME(__global const T *in, __global T *out) {                              \
        size_t g = get_global_id(0) - get_global_offset(0);                                  \
        out[g] = in[g];                                                                      \
    }

COPY(char, copy_char)
COPY(short, copy_short)
COPY(int, copy_int)
COPY(long, copy_long)
COPY(double, copy_double)
COPY(float4, copy_float4)
COPY(P7, copy_p7)

__kernel void copy_vload3(__global const int *in, __global int *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    vstore3(vload3(g, in) + (int3)(1, 2, 3), g, out);
}

// Work-item 0 reads in[n] (the rest in[n-1] .. in[1]).
__kernel void rev_int(__global const int *in, __global int *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    out[g] = in[get_global_size(0) - g];
}

__kernel void stride2(__global const int *in, __global int *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    out[g] = in[2 * g + 1];
}

__kernel void plus_one(__global const short *in, __global short *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    out[g] = in[g + 1] * 3;
}

__kernel void gather(__global const long *in, __global const int *idx, __global long *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    out[g] = in[idx[g]] + 1;
}

__kernel void oob_2d(__global const float *in, __global float *out) {
    size_t w = get_global_size(0), h = get_global_size(1);
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    size_t lin = (z * h + y) * w + x;
    out[lin] = in[lin] * 2.0f;
}

// The faulting access in a branch some lanes take (the last work-item among them).
__kernel void oob_divergent(__global const int *sel, __global const int *in, __global int *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int x = sel[g];
    if (x > 0)
        out[g] = in[g] * 2;
    else
        out[g] = -1;
}

// The faulting access after a barrier.
__kernel void oob_barrier(__global const int *a, __global const int *in, __global int *out, __local int *tmp) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int lid = get_local_id(0), lsz = get_local_size(0);
    tmp[lid] = a[g];
    barrier(CLK_LOCAL_MEM_FENCE);
    out[g] = tmp[lsz - 1 - lid] + in[g];
}

// A read one element past the local arena (the test launches groups whose __local argument
// fills the arena exactly) by the group's last lane.
__kernel void oob_local(__global int *out, __local int *tmp) {
    int lid = get_local_id(0);
    tmp[lid] = lid * 3;
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0) - get_global_offset(0)] = tmp[lid + 1];
}

__kernel void oob_store_vec(__global const float *in, __global float *out) {
    size_t g = get_global_id(0) - get_global_offset(0);
    vstore4(vload4(g, in) * 3.0f, g, out);
}
