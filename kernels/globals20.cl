// OpenCL C 2.0: program-scope __global variables (kept between launches) and generic
// pointers (to private, local and global memory).
// build: -cl-std=CL2.0
__global int counter = 5;
__global float scale[4] = {1.0f, 2.0f, 3.0f, 4.0f};

__attribute__((noinline)) int twice(int *p) { return *p * 2; } // a generic pointer

__kernel void globals20(__global int *out) {
    size_t i = get_global_id(0);
    __local int l;
    int priv = (int)i;
    if (get_local_id(0) == 0)
        l = 100;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    out[i * 3] = twice(&priv) + twice(&l) + twice(&out[i * 3 + 2]);
    out[i * 3 + 1] = (int)(scale[i & 3] * 10.0f);
    atomic_fetch_add((volatile __global atomic_int *)&counter, 1);
}

__kernel void read_counter(__global int *out) { *out = counter; }
