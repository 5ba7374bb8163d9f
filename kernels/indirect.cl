// Reads memory through an address the kernel was not given as a pointer argument (it comes in
// as two 32-bit halves): Level Zero allows that only with zeKernelSetIndirectAccess flags.
__kernel void read_indirect(uint lo, uint hi, __global float *out) {
    __global const float *p = (__global const float *)(((ulong)hi << 32) | lo);
    out[get_global_id(0)] = p[get_global_id(0)];
}
