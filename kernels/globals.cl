// Program-scope __constant variables (OpenCL 1.2 allows only __constant at program scope).
typedef struct {
    float scale;
    int offset;
} params_t;

__constant int table[8] = {1, 1, 2, 3, 5, 8, 13, 21};
__constant params_t params = {2.5f, -3};
__constant float weights[4] = {0.1f, 0.2f, 0.3f, 0.4f};

__kernel void globals(__global const int *in, __global float *out) {
    size_t i = get_global_id(0);
    int x = in[i];
    float w = 0.0f;
    for (int k = 0; k < 4; k++)
        w += weights[k] * (float)(x + k);
    out[i] = (float)(table[x & 7] + params.offset) * params.scale + w;
}
