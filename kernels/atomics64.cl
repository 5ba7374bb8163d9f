// 64-bit atomics (cl_khr_int64_base_atomics / extended_atomics).
// spirv-val rejects the Int64Atomics capability for OpenCL 1.2, so these modules are listed
// in build.sh's NOVALIDATE (see README.md).
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable
__kernel void atomics64(__global const long *in, __global long *wide) {
    size_t i = get_global_id(0);
    long x = in[i];
    atom_add(&wide[0], x << 32);
    atom_max(&wide[1], x);
    atom_min(&wide[2], x);
    atom_inc(&wide[3]);
    atom_cmpxchg(&wide[4], 0, x);
}
