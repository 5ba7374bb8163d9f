// async_work_group_copy / wait_group_events (OpGroupAsyncCopy, OpGroupWaitEvents).
// Built as OpenCL C 2.0: llvm-spirv-15 passes the event to wait_group_events through a
// generic pointer, which spirv-val rejects in an OpenCL 1.2 module.
// build: -cl-std=CL2.0
__kernel void async_copy(__global const float *in, __global float *out) {
    __local float tile[64];
    size_t n = get_local_size(0), g = get_group_id(0);
    event_t e = async_work_group_copy(tile, in + g * n, n, 0);
    wait_group_events(1, &e);
    out[get_global_id(0)] = tile[n - 1 - get_local_id(0)] * 2.0f;
}

// Strided copy back to global memory.
__kernel void async_strided(__global const float *in, __global float *out) {
    __local float tile[64];
    size_t n = get_local_size(0), g = get_group_id(0);
    tile[get_local_id(0)] = in[get_global_id(0)] + 1.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    event_t e = async_work_group_strided_copy(out + g * n * 2, tile, n, 2, 0);
    wait_group_events(1, &e);
}
