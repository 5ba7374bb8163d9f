// build: -cl-std=CL2.0
// clang: -Xclang -cl-ext=+cl_khr_subgroups
// OpenCL C 2.0 work-item ids (linear ids, enqueued sizes), sub-group ids (built-ins only:
// the JIT takes them), sub-group and work-group collectives (the engine runs kernels with
// collectives on the interpreter: `KernelEngine::fallback`), and a program-scope array
// written per lane.
#pragma OPENCL EXTENSION cl_khr_subgroups : enable

__global int gvar[4096];

__kernel void ids_linear(__global uint *out) {
    size_t gl = get_global_linear_id();
    __global uint *o = out + gl * 12;
    o[0] = get_local_linear_id();
    o[1] = gl;
    o[2] = get_enqueued_local_size(0) * 100 + get_enqueued_local_size(1) * 10 + get_enqueued_local_size(2);
    // Unsigned wrap-around of the ids: lane 0's id - 1 is the largest size_t.
    o[3] = get_local_id(0) - 1 < 3;
    o[4] = (uint)((get_local_id(0) - 1) >> 40);
    o[5] = (int)get_local_id(1) - (int)get_local_id(0) < 0;
    o[6] = get_sub_group_local_id();
    o[7] = get_sub_group_id();
    o[8] = get_sub_group_size();
    o[9] = get_num_sub_groups();
    o[10] = get_max_sub_group_size();
    o[11] = get_sub_group_id() * get_max_sub_group_size() + get_sub_group_local_id() == get_local_linear_id();
}

// Sub-group collectives per lane (the JIT does not take them).
__kernel void sg_collectives(__global const int *in, __global int *out) {
    size_t gl = get_global_linear_id();
    int x = in[gl];
    __global int *o = out + gl * 5;
    o[0] = sub_group_reduce_add(x);
    o[1] = sub_group_scan_inclusive_max(x);
    o[2] = sub_group_broadcast(x, 1 % get_sub_group_size());
    o[3] = sub_group_any(x & 1);
    o[4] = sub_group_all(x > -1000000);
}

__kernel void wg_collectives(__global const int *in, __global int *out) {
    size_t gl = get_global_linear_id();
    int x = in[gl];
    __global int *o = out + gl * 3;
    o[0] = work_group_reduce_add(x);
    o[1] = work_group_scan_exclusive_add(x);
    o[2] = work_group_broadcast(x, 0);
}

// The program-scope array: each work-item updates its own element (state that persists
// from launch to launch, in both engines' programs alike).
__kernel void gvar_lanes(__global int *out, int k) {
    size_t gl = get_global_linear_id();
    gvar[gl] = gvar[gl] * 3 + (int)gl + k;
    gvar[gl + 2048] ^= (int)get_local_linear_id();
    out[gl] = gvar[gl] - gvar[gl + 2048];
}
