// Barriers in a called function, after divergent loops, and inside loops.
__attribute__((noinline)) void stage(__local int *buf, int v) {
    buf[get_local_id(0)] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
}

__kernel void barriers(__global const int *in, __global int *out) {
    __local int buf[64];
    size_t l = get_local_id(0), n = get_local_size(0);
    int x = in[get_global_id(0)];
    int s = 0;
    for (int k = 0; k < (x & 15); k++)   // per-item trip counts before the barrier
        s ^= k * 3 + 1;
    stage(buf, s);
    int acc = 0;
    for (int r = 0; r < 3; r++) {         // barriers inside a uniform loop
        if (l & 1)
            acc += buf[(l + r) % n];
        else
            acc -= buf[(l + 2 * r) % n];
        barrier(CLK_LOCAL_MEM_FENCE);
        buf[l] = acc;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    out[get_global_id(0)] = acc;
}
