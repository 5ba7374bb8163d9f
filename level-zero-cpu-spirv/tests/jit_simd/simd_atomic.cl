// Atomics whose final values do not depend on the order of the work-items: the 4 lanes of
// a SIMD group updating the same address (they must not be merged into one update), the
// same address for all, addresses that collide in some lanes only, in divergent code, on
// local and global memory, 32 and 64 bits. The values atomics return are order-dependent:
// only their sum over the work-items is used (itself order-free).
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable

// counters: [0] count of work-items, [1] sum of x, [2] max, [3] min, [4] or, [5] and,
// [6] xor, [7] count of odd x, [8] umax, [9] sum of the values atomic_inc returned (order-free:
// 0 + 1 + ... + n-1); hist: 16 bins by x & 15; lhist: per group, 8 local bins.
__kernel void atom_counters(__global const int *in, __global int *counters, __global int *hist,
                            __global int *ghist, __global long *wide) {
    __local int lh[8];
    __local int lcount;
    int lid = get_local_id(0);
    size_t g = get_global_id(0) - get_global_offset(0);
    size_t grp = get_group_id(0);
    int x = in[g];
    for (int k = lid; k < 8; k += get_local_size(0))
        lh[k] = 0;
    if (lid == 0)
        lcount = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    atomic_inc(&counters[0]);
    atomic_add(&counters[1], x);
    atomic_max(&counters[2], x);
    atomic_min(&counters[3], x);
    atomic_or(&counters[4], 1 << (g & 31));
    atomic_and(&counters[5], ~(1 << (x & 31)));
    atomic_xor(&counters[6], x);
    if (x & 1)
        atomic_inc(&counters[7]);
    atomic_max((volatile __global uint *)&counters[8], (uint)x);
    int old = atomic_inc(&counters[10]);
    atomic_add(&counters[9], old);
    atomic_add(&hist[x & 15], 1);
    atomic_add(&lh[(x >> 4) & 7], 1);
    atomic_inc(&lcount);
    atom_add(&wide[0], (long)x << 20);
    atom_max(&wide[1], (long)x * -3);
    atom_xor(&wide[2], (long)x << (g & 31));
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = lid; k < 8; k += get_local_size(0))
        ghist[grp * 9 + k] = lh[k];
    if (lid == get_local_size(0) - 1)
        ghist[grp * 9 + 8] = lcount;
}

// Adds by compare-and-swap loops (each lane retries until its update lands): the lanes of
// a SIMD group contend for the same word, or for one of 3 words; the final values are sums.
__kernel void atom_cas_add(__global const int *in, __global int *acc, __global int *acc2) {
    size_t g = get_global_id(0) - get_global_offset(0);
    int v = in[g] & 0xfff;
    int old = atomic_add(acc, 0);
    while (1) {
        int seen = atomic_cmpxchg(acc, old, old + v);
        if (seen == old)
            break;
        old = seen;
    }
    volatile __global int *w = acc2 + (g % 3);
    int o2 = atomic_or(w, 0);
    for (int seen; (seen = atomic_cmpxchg(w, o2, o2 + (v ^ 0x55))) != o2;)
        o2 = seen;
}
