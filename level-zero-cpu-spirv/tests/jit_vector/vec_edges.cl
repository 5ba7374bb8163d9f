// Buffer ends and shared addresses under the vector path: affine accesses whose last lanes
// (or first lanes) fall outside the buffer (the test passes buffers `short` elements short:
// the lowest faulting work-item must be reported by both engines), one address for every
// lane (loads once; stores in lane order: the last lane's value stays), and addresses chosen
// by selects mixing uniform, affine and varying operands.
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

// Only the accesses at `in[i + d]` (loads) or `out[i + d]` (stores) can fault.
__kernel void edge_int(__global const int *in, __global int *out, long d) {
    size_t i = lin();
    out[i] = in[i + d] * 3 + 1;
}

__kernel void edge_long_store(__global const long *in, __global long *out, long d) {
    size_t i = lin();
    out[i + d] = in[i] ^ (long)i;
}

__kernel void edge_double_rev(__global const double *in, __global double *out, long d) {
    size_t N = total(), i = lin();
    out[i] = in[N - 1 - i + d] * 0.5;
}

__kernel void edge_float_local(__global const float *in, __global float *out, __local float *t,
                               int d) {
    size_t i = lin();
    size_t l = get_local_id(0) + get_local_size(0) * (get_local_id(1) + get_local_size(1) * get_local_id(2));
    t[l + d] = in[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    out[i] = t[l];
}

// Every lane of a work-group stores to the group's out[4 g] and out[4 g + 1 + (k & 1)] (the
// last work-item's values stay), and loads from one address. out: 4 G + 2 N ints; outl: 2 G
// longs (G work-groups).
__kernel void same_addr(__global const int *in, __global int *out, __global long *outl, int k) {
    size_t N = total(), i = lin();
    size_t G = get_num_groups(0) * get_num_groups(1) * get_num_groups(2);
    size_t g = get_group_id(0) + get_num_groups(0) * (get_group_id(1) + get_num_groups(1) * get_group_id(2));
    out[4 * g] = in[i];
    out[4 * g + 1 + (k & 1)] = (int)i * 3;
    outl[2 * g + (k & 1)] = (long)in[N - 1 - i] << 20;
    int u = in[k];
    out[4 * G + i] = u + (int)i;
    // a store to one address, of a value computed per lane, in a loop
    for (int r = 0; r < 3; r++)
        out[4 * g + 3] = in[i] + r * (int)i;
    out[4 * G + N + i] = in[N - 1 - (size_t)k];
}

// Addresses from selects: uniform condition, affine condition, varying condition, and
// selects between affine pointers of different strides.
__kernel void sel_addr(__global const int *in, __global const int *c, __global int *out, int u) {
    size_t N = total(), i = lin();
    int ci = c[i];
    size_t a = u > 0 ? i : N - 1 - i;
    size_t b = (i & 1) ? i : i + 1;
    size_t e = ci > 0 ? i : (size_t)(u & 7);
    __global const int *p = (ci & 2) ? in + i : in + 2 * (N - 1 - i);
    __global const int *q = u > 3 ? in + 2 * i : in + i;
    out[i] = in[a];
    out[N + i] = in[b];
    out[2 * N + i] = in[e];
    out[3 * N + i] = *p;
    out[4 * N + i] = *q + q[1];
    __global int *o = (ci & 4) ? out + 5 * N + i : out + 6 * N + (N - 1 - i);
    *o = ci;
    __global int *o2 = u > 0 ? out + 7 * N + i : out + 7 * N + (N - 1 - i);
    *o2 = (int)i + ci;
}
