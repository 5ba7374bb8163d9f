// build: -cl-std=CL2.0
// Generic pointers (OpenCL C 2.0) into private, local and global memory through one
// function, and program-scope globals.
__global int counter_g = 5;

int sum_through(int *p, int n) {
    int s = 0;
    for (int i = 0; i < n; ++i)
        s += p[i] * (i + 1);
    p[0] = s;
    return s;
}

__kernel void generic_ptrs(__global int *buf, int n) {
    __local int l[16];
    int priv[4];
    int g = get_global_id(0), lid = get_local_id(0);
    for (int i = 0; i < 4; ++i)
        priv[i] = g + i;
    l[lid] = lid * 2;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int a = sum_through(priv, 4);
    int b = lid == 0 ? sum_through(l, n) : 0;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int c = sum_through(buf + g * 4, 4);
    int *q = (g & 1) ? (int *)priv : (int *)(buf + g * 4);
    buf[g * 4 + 1] = a + b + l[lid] + q[1] + counter_g;
}
