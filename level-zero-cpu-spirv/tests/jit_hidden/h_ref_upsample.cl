// upsample (OpenCL C 1.2, 6.12.3), signed and unsigned: refused by the engine at build time
// (llvm-spirv-15 writes u_upsample for both; the engine knows neither s_ nor u_upsample).
__kernel void f_upsample(__global const int *hi, __global const uint *lo, __global long *out, __global ushort *out16) {
    size_t i = get_global_id(0);
    out[i] = upsample(hi[i], lo[i]);
    out16[i] = upsample((uchar)hi[i], (uchar)lo[i]);
}
