// build: -cl-std=CL2.0
// spirv: 1.4
// Translated to SPIR-V 1.4, where llvm-spirv lists every global variable a kernel uses in its
// entry point's interface (program-scope `__global` and `__constant` data, `__local`
// arrays), not only the built-ins, and decorates arithmetic `NoSignedWrap`.

__global int counter = 5;
__constant int weights[4] = {3, 1, 4, 1};

__kernel void globals14(__global const int *in, __global int *out) {
  __local int tile[64];
  size_t g = get_global_id(0);
  size_t l = get_local_id(0);
  tile[l] = in[g] * weights[g % 4];
  barrier(CLK_LOCAL_MEM_FENCE);
  out[g] = tile[(l + 1) % get_local_size(0)] + counter;
}

__kernel void bump(int by) { counter += by; }
