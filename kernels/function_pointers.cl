// build: -cl-std=CL2.0
// clang: -Xclang -cl-ext=+__cl_clang_function_pointers
// spirv-ext: +SPV_INTEL_function_pointers
// Calls through function pointers (SPIR-V `FunctionPointersINTEL`:
// `OpConstantFunctionPointerINTEL`, `OpFunctionPointerCallINTEL`). OpenCL C 1.2 crashes
// clang 15 on a function pointer assignment; OpenCL C 2.0 compiles it.
#pragma OPENCL EXTENSION __cl_clang_function_pointers : enable

typedef int (*op_t)(int, int);

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
// Exported (not static): the host can get its address (`zeModuleGetFunctionPointer`).
int twice_plus(int a, int b) { return 2 * a + b; }

// Calls `f` from a function of its own, twice.
__attribute__((noinline)) int apply_twice(op_t f, int a, int b) { return f(f(a, b), b); }

// A pointer chosen per work-item (out[2i]: the call, out[2i + 1]: through apply_twice).
__kernel void choose(__global const int *x, __global int *out) {
  size_t i = get_global_id(0);
  op_t f = add;
  if (i % 3 == 1) {
    f = sub;
  }
  if (i % 3 == 2) {
    f = mul;
  }
  out[2 * i] = f(x[i], 3);
  out[2 * i + 1] = apply_twice(f, x[i], 3);
}

// Function addresses written to memory by one kernel and called through by another.
__kernel void fill_table(__global ulong *table) {
  table[0] = (ulong)add;
  table[1] = (ulong)sub;
  table[2] = (ulong)mul;
  table[3] = (ulong)twice_plus;
}

__kernel void call_table(__global const ulong *table, __global const int *pick,
                         __global const int *x, __global int *out) {
  size_t i = get_global_id(0);
  op_t f = (op_t)table[pick[i]];
  out[i] = f(x[i], 5);
}

// A function pointer from the host, as a 64-bit argument.
__kernel void call_arg(ulong fp, __global const int *x, __global int *out) {
  size_t i = get_global_id(0);
  out[i] = ((op_t)fp)(x[i], 7);
}
