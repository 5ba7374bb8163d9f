// Benchmark kernels: C = A * B for n x n row-major float matrices.

// One work-item per element of C; 2-D launch (x = column, y = row).
__kernel void matmul_naive(__global const float *A, __global const float *B, __global float *C,
                           uint n) {
    size_t col = get_global_id(0);
    size_t row = get_global_id(1);
    if (row >= n || col >= n)
        return;
    float acc = 0.0f;
    for (uint k = 0; k < n; k++)
        acc += A[row * n + k] * B[k * n + col];
    C[row * n + col] = acc;
}

#define TILE 16
// Tiled with local memory; needs 16x16 work-groups and n a multiple of 16.
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1))) void
matmul_tiled(__global const float *A, __global const float *B, __global float *C, uint n) {
    __local float As[TILE][TILE];
    __local float Bs[TILE][TILE];
    size_t lx = get_local_id(0), ly = get_local_id(1);
    size_t col = get_global_id(0), row = get_global_id(1);
    float acc = 0.0f;
    for (uint t = 0; t < n; t += TILE) {
        As[ly][lx] = A[row * n + t + lx];
        Bs[ly][lx] = B[(t + ly) * n + col];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint k = 0; k < TILE; k++)
            acc += As[ly][k] * Bs[k][lx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    C[row * n + col] = acc;
}
