// Runs the benchmark kernels (vector_add on 2^24 floats, 1024x1024 matmul naive and tiled,
// empty-kernel launch latency) from their OpenCL C source on the first OpenCL platform
// (pocl here), for comparison with level-zero-cpu-spirv's engine_speed example.
// Build: cc -O2 pocl_speed.c -lOpenCL -o pocl_speed   (Debian: ocl-icd-opencl-dev, pocl-opencl-icd)
// Run from kernels/: pocl/pocl_speed
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(x)                                                                              \
    do {                                                                                      \
        cl_int e_ = (x);                                                                      \
        if (e_ != CL_SUCCESS) {                                                               \
            fprintf(stderr, "%s:%d: %s = %d\n", __FILE__, __LINE__, #x, e_);                   \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static cl_context ctx;
static cl_command_queue q;
static cl_device_id dev;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static cl_program build(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *src = malloc(n + 1);
    if (fread(src, 1, n, f) != (size_t)n)
        exit(1);
    src[n] = 0;
    fclose(f);
    cl_int e;
    cl_program p = clCreateProgramWithSource(ctx, 1, (const char **)&src, NULL, &e);
    CHECK(e);
    if (clBuildProgram(p, 1, &dev, "-cl-std=CL1.2", NULL, NULL) != CL_SUCCESS) {
        char log[65536];
        clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fprintf(stderr, "%s: %s\n", path, log);
        exit(1);
    }
    free(src);
    return p;
}

static double run(cl_kernel k, cl_uint dims, const size_t *global, const size_t *local, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now();
        CHECK(clEnqueueNDRangeKernel(q, k, dims, NULL, global, local, 0, NULL, NULL));
        CHECK(clFinish(q));
        t = now() - t;
        if (t < best)
            best = t;
    }
    return best;
}

int main(void) {
    cl_platform_id plat;
    cl_int e;
    CHECK(clGetPlatformIDs(1, &plat, NULL));
    CHECK(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
    char name[256];
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
    CHECK(e);
    q = clCreateCommandQueue(ctx, dev, 0, &e);
    CHECK(e);
    printf("device: %s\n", name);

    // vector_add
    size_t n = 1 << 24;
    float *a = malloc(n * 4), *b = malloc(n * 4), *c = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)i;
        b[i] = (float)(n - i);
    }
    cl_mem ba = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * 4, a, &e);
    cl_mem bb = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * 4, b, &e);
    cl_mem bc = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, n * 4, NULL, &e);
    cl_program p = build("vector_add.cl");
    cl_kernel k = clCreateKernel(p, "vector_add", &e);
    CHECK(e);
    clSetKernelArg(k, 0, sizeof ba, &ba);
    clSetKernelArg(k, 1, sizeof bb, &bb);
    clSetKernelArg(k, 2, sizeof bc, &bc);
    size_t g = n, l = 256;
    double t = run(k, 1, &g, &l, 3);
    CHECK(clEnqueueReadBuffer(q, bc, CL_TRUE, 0, n * 4, c, 0, NULL, NULL));
    for (size_t i = 0; i < n; i++)
        if (c[i] != (float)n) {
            fprintf(stderr, "vector_add wrong at %zu\n", i);
            return 1;
        }
    printf("vector_add pocl: 2^24 floats in %.1f ms\n", t * 1e3);

    // empty
    cl_program pe = build("empty.cl");
    cl_kernel ke = clCreateKernel(pe, "empty", &e);
    size_t one = 1;
    t = run(ke, 1, &one, &one, 200);
    printf("empty pocl: one launch of one work-item in %.2f us\n", t * 1e6);

    // matmul
    size_t m = 1024;
    float *A = malloc(m * m * 4), *B = malloc(m * m * 4), *C = malloc(m * m * 4);
    for (size_t i = 0; i < m * m; i++) {
        A[i] = ((i * 7) % 13) * 0.25f;
        B[i] = ((i * 5) % 11) * 0.5f;
    }
    cl_mem mA = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, m * m * 4, A, &e);
    cl_mem mB = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, m * m * 4, B, &e);
    cl_mem mC = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, m * m * 4, NULL, &e);
    cl_program pm = build("matmul.cl");
    const char *names[2] = {"matmul_naive", "matmul_tiled"};
    for (int w = 0; w < 2; w++) {
        cl_kernel km = clCreateKernel(pm, names[w], &e);
        CHECK(e);
        cl_uint nn = (cl_uint)m;
        clSetKernelArg(km, 0, sizeof mA, &mA);
        clSetKernelArg(km, 1, sizeof mB, &mB);
        clSetKernelArg(km, 2, sizeof mC, &mC);
        clSetKernelArg(km, 3, sizeof nn, &nn);
        size_t gg[2] = {m, m}, ll[2] = {16, 16};
        t = run(km, 2, gg, ll, 1);
        CHECK(clEnqueueReadBuffer(q, mC, CL_TRUE, 0, m * m * 4, C, 0, NULL, NULL));
        float want = 0;
        for (size_t kk = 0; kk < m; kk++)
            want += A[17 * m + kk] * B[kk * m + 999];
        if (C[17 * m + 999] - want > 1e-3f * want || want - C[17 * m + 999] > 1e-3f * want) {
            fprintf(stderr, "%s wrong\n", names[w]);
            return 1;
        }
        printf("%s pocl: 1024x1024 in %.3f s = %.2f GFLOP/s\n", names[w], t, 2.0 * m * m * m / t / 1e9);
    }
    return 0;
}
