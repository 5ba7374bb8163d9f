// printf from some lanes of a chunk, and atomics with results that do not depend on the
// order work-items run in.
static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

__kernel void pf_lanes(__global const int *in, int k) {
    size_t i = lin();
    int x = in[i];
    if ((i & 15) == (size_t)k || (i & 15) == 15)
        printf("a %d %d\n", (int)i, x);
    if (x & 1)
        printf("b %ld\n", (long)get_global_id(0));
    printf("c %d\n", (int)get_local_id(0) * k);
}

__kernel void pf_barrier(__global const int *in, __local int *sh, int k) {
    size_t i = lin();
    size_t l = get_local_id(0);
    int x = in[i];
    sh[l] = x;
    if (l % 5 == 0)
        printf("before %d\n", (int)i);
    barrier(CLK_LOCAL_MEM_FENCE);
    int y = sh[(l + 1) % get_local_size(0)];
    if (l == (size_t)k)
        printf("after %d %d\n", (int)i, y);
    printf("end %d\n", y & 0xff);
}

// counters: 8 ints per work-group row, plus global totals.
__kernel void atom_ops(__global const int *in, __global int *cnt, __global uint *ucnt,
                       __global int *out) {
    size_t i = lin();
    int x = in[i];
    size_t g = get_group_id(0) + get_num_groups(0) * (get_group_id(1) + get_num_groups(1) * get_group_id(2));
    atomic_add(&cnt[0], x);
    atomic_min(&cnt[1], x);
    atomic_max(&cnt[2], x);
    atomic_or(&cnt[3], x);
    atomic_and(&cnt[4], x | 0x10000);
    atomic_xor(&cnt[5], x);
    atomic_inc(&cnt[6]);
    atomic_add(&cnt[8 + g], (int)get_local_id(0));
    atomic_max(&ucnt[0], (uint)x);
    atomic_min(&ucnt[1], (uint)x);
    if (x & 1)
        atomic_sub(&cnt[7], x);
    int old = atomic_xchg(&out[i], x);
    out[get_global_size(0) * get_global_size(1) * get_global_size(2) + i] = old;
}

__kernel void atom_local(__global const int *in, __global int *out, __local int *sh) {
    size_t i = lin();
    size_t l = get_local_id(0);
    int x = in[i];
    if (l < 4)
        sh[l] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    atomic_add(&sh[0], x);
    atomic_max(&sh[1], x);
    atomic_inc(&sh[2 + (x & 1)]);
    barrier(CLK_LOCAL_MEM_FENCE);
    out[i] = sh[0] + sh[1] * 3 + sh[2] * 5 + sh[3] * 7;
}
