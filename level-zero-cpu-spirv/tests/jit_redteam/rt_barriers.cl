// Barriers inside loops and in called functions, with many values live across them
// (scalars of every width, vectors, pointers into every address space).
void stage(__local int *tmp, int lid, int lsz, int v) {
    tmp[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
}

int neighbour_sum(__local int *tmp, int lid, int lsz) {
    int r = tmp[lid] + tmp[(lid + 1) % lsz];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel void loop_barrier(__global const int *in, __global int *out, __local int *tmp, int iters) {
    int lid = get_local_id(0), lsz = get_local_size(0), g = get_global_id(0);
    int v = in[g];
    for (int i = 0; i < iters; ++i) {
        stage(tmp, lid, lsz, v + i);
        v = neighbour_sum(tmp, lid, lsz) ^ i;
    }
    out[g] = v;
}

__kernel void many_live(__global const int *in, __global long *out, __global float4 *fout) {
    __local int tmp[64];
    int lid = get_local_id(0), g = get_global_id(0);
    char c = (char)(in[g] * 3);
    uchar uc = (uchar)(in[g] + 200);
    short s = (short)(in[g] * -1000);
    ushort us = (ushort)(in[g] * 7777);
    int i = in[g] * 12345;
    uint u = (uint)in[g] * 3000000000u;
    long l = (long)in[g] * -123456789123L;
    ulong ul = (ulong)in[g] * 0x9e3779b97f4a7c15UL;
    float f = (float)in[g] / 3.0f;
    double d = (double)in[g] / 7.0;
    float4 v4 = (float4)(f, f * 2, f * 3, f * 4);
    int3 i3 = (int3)(i, i + 1, i - 1);
    __global const int *gp = in + g;
    __local int *lp = tmp + lid;
    int priv[4] = {i, i * 2, i * 3, i * 4};
    int *pp = &priv[g & 3];
    tmp[lid] = i;
    barrier(CLK_LOCAL_MEM_FENCE);
    int other = tmp[(lid + 3) % get_local_size(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    *lp = other + *pp;
    barrier(CLK_LOCAL_MEM_FENCE);
    long sum = c + uc + s + us + i + u + l + (long)ul + (long)(f * 1000) + (long)(d * 1000)
               + i3.x + i3.y * 2 + i3.z * 3 + *gp + *lp + *pp;
    out[2 * g] = sum;
    out[2 * g + 1] = other;
    fout[g] = v4 + (float4)((float)sum);
}

// A barrier in a loop whose trip count is uniform but loaded from memory, with a local
// tree reduction (the classic pattern) and a vector accumulator live across barriers.
__kernel void tree_reduce(__global const float *in, __global float *out, __local float *scratch) {
    int lid = get_local_id(0), lsz = get_local_size(0);
    float4 acc = (float4)(0.0f);
    for (int k = 0; k < 4; ++k)
        acc[k] = in[get_global_id(0) * 4 + k];
    scratch[lid] = acc.x + acc.y + acc.z + acc.w;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int off = lsz / 2; off > 0; off >>= 1) {
        if (lid < off)
            scratch[lid] += scratch[lid + off];
        barrier(CLK_LOCAL_MEM_FENCE);
        acc = acc.wxyz;
    }
    if (lid == 0)
        out[get_group_id(0)] = scratch[0];
    out[get_num_groups(0) + get_global_id(0)] = acc.x - acc.y;
}

// Nested loops with a barrier in the inner one; values of the outer loop live across it.
__kernel void nested_barrier(__global int *out, __local int *tmp) {
    int lid = get_local_id(0), lsz = get_local_size(0);
    int a = lid, b = lid * lid;
    for (int i = 0; i < 3; ++i) {
        int c = a + i;
        for (int j = 0; j < 2; ++j) {
            tmp[lid] = a + b + c + j;
            barrier(CLK_LOCAL_MEM_FENCE);
            b += tmp[(lid + j + 1) % lsz];
            barrier(CLK_LOCAL_MEM_FENCE);
            c ^= b;
        }
        a = c - b;
    }
    out[get_global_id(0) * 3] = a;
    out[get_global_id(0) * 3 + 1] = b;
    out[get_global_id(0) * 3 + 2] = lid;
}
