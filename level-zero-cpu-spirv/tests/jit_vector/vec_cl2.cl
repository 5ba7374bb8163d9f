// build: -cl-std=CL2.0
// OpenCL 2.0: kernels that read only the linear ids (the vector path takes chunks whatever
// the work-group's shape then), generic pointers to global, local and private memory, and
// grid-stride loops (an affine induction variable).
static size_t glin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

// Only get_local_linear_id and get_global_linear_id. out: 4 N ints.
__kernel void linear_only(__global const int *in, __global int *out) {
    size_t g = get_global_linear_id();
    size_t l = get_local_linear_id();
    size_t N = get_global_size(0) * get_global_size(1) * get_global_size(2);
    int x = in[g];
    out[g] = x + (int)l;
    out[N + g] = in[N - 1 - g] * (int)(l & 15);
    out[2 * N + g] = (int)get_group_id(0) * 1000 + (int)get_group_id(1) * 100 + (int)l;
    if ((l & 3) == 1)
        out[3 * N + g] = x;
    else
        out[3 * N + g] = -(int)g;
}

static int through(int *p, int k) {
    return p[k] * 2 + 1;
}

// Generic pointers into every address space, chosen per lane. out: 4 N ints.
__kernel void generic_ptrs(__global const int *in, __global int *out, __local int *sh) {
    size_t i = glin(), l = get_local_linear_id();
    size_t N = get_global_size(0) * get_global_size(1) * get_global_size(2);
    int priv[4] = {(int)i, (int)l, in[i], 7};
    sh[l] = in[i] ^ 0x55;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int *pg = (int *)(in + i);
    int *pl = (int *)(sh + (get_local_size(0) * get_local_size(1) * get_local_size(2) - 1 - l));
    int *pp = priv;
    int *pick = (in[i] & 1) ? pg : ((in[i] & 2) ? pl : pp);
    out[i] = through(pg, 0) + through(pl, 0);
    out[N + i] = through(pp, (int)(l & 3));
    out[2 * N + i] = *pick;
    int *po = (int *)(out + 3 * N + i);
    *po = through(pick, 0);
}

// Grid-stride loops: i from the global id by the global size (affine, the same stride in
// every iteration), over n elements.
__kernel void grid_stride(__global const float *in, __global float *out, int n) {
    size_t step = get_global_size(0);
    for (size_t i = get_global_id(0) - get_global_offset(0); i < (size_t)n; i += step)
        out[i] = in[i] * 2.0f + in[n - 1 - i];
}

// A private variable's address handed to the whole work-group through local memory: the
// other work-items read and write the first one's private memory, which they may not
// (both engines must stop with the same fault).
__kernel void priv_share(__global int *out, __local ulong *sh) {
    int mine = (int)get_global_id(0) * 7;
    int *gp = &mine;
    if (get_local_id(0) == 0)
        sh[0] = (ulong)gp;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int *p = (int *)sh[0];
    out[glin()] = *p;
}

__kernel void priv_share_store(__global int *out, __local ulong *sh, int k) {
    int mine = (int)get_global_id(0) * 7;
    int *gp = &mine;
    if (get_local_id(0) == 0)
        sh[0] = (ulong)gp;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    int *p = (int *)sh[0];
    *p = k;
    work_group_barrier(CLK_LOCAL_MEM_FENCE);
    out[glin()] = mine;
}
