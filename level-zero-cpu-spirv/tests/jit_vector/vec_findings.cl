// build: -cl-std=CL2.0
// Minimal kernels for the findings of this red team (tests/jit_vector.rs, `finding_*`).

// A long2 add whose first component is the same in every lane and the second not: the
// vector path's analysis makes the first component affine (stride 0), and the vector form
// of the add then sets it from a vector (a panic in the JIT: the kernel falls back to the
// interpreter).
__kernel void f_vec_mixed(__global const ulong *in, __global ulong2 *out, ulong u) {
    size_t i = get_global_id(0);
    out[i] = (ulong2)(u, in[i]) + (ulong2)(3, 5);
}

// A variable assigned in one branch only, read by every work-item after a barrier: the
// work-items that did not assign it read an uninitialised register, 0 on the interpreter;
// the JIT computes its single definition again after the barrier instead (at -O0, where the
// variable is a register with one definition).
__kernel void f_one_branch(__global long *out, int k) {
    size_t g = get_global_id(0);
    long y;
    if (get_local_id(0) == (size_t)k)
        y = (long)g * 3;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    out[g] = y;
}

// Work-item 0's private variable read by the whole work-group through a generic pointer
// handed around in local memory: every other work-item's read is out of its bounds. The
// vector path loads from the one (uniform) address once per chunk, checked for the
// chunk's first lane only.
__kernel void f_priv_share(__global int *out, __local ulong *sh) {
    int mine = (int)get_global_id(0) * 7;
    int *gp = &mine;
    if (get_local_id(0) == 0)
        sh[0] = (ulong)gp;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int *p = (int *)sh[0];
    out[get_global_id(0)] = *p;
}
