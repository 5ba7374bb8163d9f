// Atomics on global and local memory (OpenCL 1.1/1.2 built-ins).

// counters: [0] add, [1] inc, [2] dec, [3] min, [4] max, [5] and, [6] or, [7] xor, [8] cmpxchg
// counter, [9] xchg.
__kernel void global_atomics(__global const int *in, __global int *counters,
                             __global uint *histogram) {
    size_t i = get_global_id(0);
    int x = in[i];
    atomic_add(&counters[0], x);
    atomic_inc(&counters[1]);
    atomic_dec(&counters[2]);
    atomic_min(&counters[3], x);
    atomic_max(&counters[4], x);
    atomic_and(&counters[5], ~(1 << (x & 31)));
    atomic_or(&counters[6], 1 << (x & 31));
    atomic_xor(&counters[7], x);
    int old, seen = counters[8];
    do {                                      // cmpxchg loop: counters[8] += 2
        old = seen;
        seen = atomic_cmpxchg(&counters[8], old, old + 2);
    } while (seen != old);
    atomic_xchg(&counters[9], 7);
    atomic_inc(&histogram[x & 15]);
}

// Local-memory histogram merged into global memory.
__kernel void local_histogram(__global const uint *in, __global uint *histogram) {
    __local uint bins[16];
    size_t l = get_local_id(0);
    if (l < 16)
        bins[l] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    atomic_inc(&bins[in[get_global_id(0)] & 15]);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (l < 16)
        atomic_add(&histogram[l], bins[l]);
}
