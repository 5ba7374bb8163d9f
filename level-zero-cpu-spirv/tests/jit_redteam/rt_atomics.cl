// Atomics whose final results do not depend on the order the work-items apply them in.
__kernel void atom_sums(__global const int *in, __global int *c, __global uint *u, __global long *l) {
    __local int lsum;
    __local uint lmax;
    int g = get_global_id(0), lid = get_local_id(0);
    if (lid == 0) {
        lsum = 0;
        lmax = 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    int v = in[g];
    atomic_add(&c[0], v);
    atomic_sub(&c[1], v);
    atomic_max(&c[2], v);
    atomic_min(&c[3], v);
    atomic_or(&c[4], 1 << (g & 31));
    atomic_xor(&c[5], v);
    atomic_and(&c[6], ~(1 << (g & 31)));
    atomic_inc(&c[7]);
    atomic_dec(&c[8]);
    atomic_max(&u[0], (uint)v);
    atomic_min(&u[1], (uint)v);
    atomic_add(&lsum, v);
    atomic_max(&lmax, (uint)v);
    for (int k = 0; k < 3; ++k)
        atom_add(&l[0], (long)v << (k * 8));
    atom_max(&l[1], (long)v * 0x100000001L);
    atom_min(&l[2], (long)v * -0x100000001L);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
        atomic_add(&c[9], lsum);
        atomic_max(&u[2], lmax);
    }
}

// A compare-and-swap loop implementing a float add (order-independent for integers
// stored as floats).
__kernel void cas_loop(__global const int *in, __global int *acc) {
    int g = get_global_id(0);
    int v = in[g] & 0xff;
    int old = *acc, seen;
    do {
        seen = old;
        old = atomic_cmpxchg(acc, seen, seen + v);
    } while (old != seen);
}
