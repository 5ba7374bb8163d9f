// Benchmark and tutorial kernels: saxpy with float4, mandelbrot, n-body with float4 and
// local tiles, Black-Scholes (erf, exp, log, sqrt), a Sobel filter on uchar4 pixels, a 2-D
// convolution with a __constant mask, bitonic sort steps, a dot product with local
// reduction, a prefix-sum per work-item of a strided vector, a 3-D stencil.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void saxpy4(__global const float4 *x, __global float4 *y, float a, int n4) {
    int g = get_global_id(0);
    if (g < n4)
        y[g] = a * x[g] + y[g];
}

__kernel void mandelbrot(__global uint *out, int w, int h, float x0, float y0, float dx, float dy, int maxit) {
    int px = get_global_id(0), py = get_global_id(1);
    if (px >= w || py >= h)
        return;
    float cr = x0 + px * dx, ci = y0 + py * dy;
    float zr = 0.0f, zi = 0.0f;
    int it = 0;
    while (it < maxit && zr * zr + zi * zi <= 4.0f) {
        float t = zr * zr - zi * zi + cr;
        zi = 2.0f * zr * zi + ci;
        zr = t;
        ++it;
    }
    uchar4 col = it == maxit ? (uchar4)(0, 0, 0, 255) : (uchar4)(it * 8, it * 4, it * 2, 255);
    out[py * w + px] = as_uint(col);
}

__kernel void nbody(__global const float4 *pos, __global const float4 *vel, __global float4 *npos, __global float4 *nvel,
                    int n, float dt, float eps, __local float4 *tile) {
    int g = get_global_id(0), l = get_local_id(0), L = get_local_size(0);
    float4 p = pos[g];
    float4 acc = (float4)(0.0f);
    for (int t = 0; t < n / L; ++t) {
        tile[l] = pos[t * L + l];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int j = 0; j < L; ++j) {
            float4 q = tile[j];
            float4 d = q - p;
            d.w = 0.0f;
            float inv = rsqrt(dot(d, d) + eps);
            acc += d * (q.w * inv * inv * inv);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float4 v = vel[g] + acc * dt;
    float4 np = p + v * dt;
    np.w = p.w;
    npos[g] = np;
    nvel[g] = v;
}

float cnd(float d) {
    return 0.5f * (1.0f + erf(d * M_SQRT1_2_F));
}

__kernel void black_scholes(__global const float *S, __global const float *K, __global const float *T,
                            __global float *call, __global float *put, float r, float v) {
    int g = get_global_id(0);
    float s = S[g], k = K[g], t = T[g];
    float sq = v * sqrt(t);
    float d1 = (log(s / k) + (r + 0.5f * v * v) * t) / sq;
    float d2 = d1 - sq;
    float e = exp(-r * t);
    call[g] = s * cnd(d1) - k * e * cnd(d2);
    put[g] = k * e * cnd(-d2) - s * cnd(-d1);
}

__kernel void sobel(__global const uchar4 *img, __global uchar4 *out, int w, int h) {
    int x = get_global_id(0), y = get_global_id(1);
    if (x >= w || y >= h)
        return;
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
        out[y * w + x] = (uchar4)(0);
        return;
    }
    float4 a = convert_float4(img[(y - 1) * w + x - 1]), b = convert_float4(img[(y - 1) * w + x]), c = convert_float4(img[(y - 1) * w + x + 1]);
    float4 d = convert_float4(img[y * w + x - 1]), f = convert_float4(img[y * w + x + 1]);
    float4 gg = convert_float4(img[(y + 1) * w + x - 1]), hh = convert_float4(img[(y + 1) * w + x]), ii = convert_float4(img[(y + 1) * w + x + 1]);
    float4 gx = -a - 2.0f * d - gg + c + 2.0f * f + ii;
    float4 gy = -a - 2.0f * b - c + gg + 2.0f * hh + ii;
    float4 m = hypot(gx, gy) / 2.0f;
    out[y * w + x] = convert_uchar4_sat_rte(m);
}

__constant float mask3[3][3] = {{1.0f / 16, 2.0f / 16, 1.0f / 16}, {2.0f / 16, 4.0f / 16, 2.0f / 16}, {1.0f / 16, 2.0f / 16, 1.0f / 16}};

__kernel void conv2d(__global const float *in, __global float *out, int w, int h) {
    int x = get_global_id(0), y = get_global_id(1);
    float s = 0.0f;
    for (int j = -1; j <= 1; ++j)
        for (int i = -1; i <= 1; ++i) {
            int xx = min(max(x + i, 0), w - 1), yy = min(max(y + j, 0), h - 1);
            s += mask3[j + 1][i + 1] * in[yy * w + xx];
        }
    out[y * w + x] = s;
}

// One step of a bitonic sort over the whole buffer (the host loops over stage and pass).
__kernel void bitonic_step(__global int *a, uint stage, uint pass, uint dir) {
    uint i = get_global_id(0);
    uint dist = 1u << (stage - pass);
    uint left = (i >> (stage - pass)) * (dist << 1) + (i & (dist - 1));
    uint right = left + dist;
    uint up = ((i >> stage) & 1) ? 1 - dir : dir;
    int l = a[left], r = a[right];
    if ((l > r) == (up != 0)) {
        a[left] = r;
        a[right] = l;
    }
}

// Bitonic sort of one work-group's block in local memory, barriers in a doubly nested loop.
__kernel void bitonic_local(__global int *a, __local int *s) {
    uint l = get_local_id(0), L = get_local_size(0);
    uint base = get_group_id(0) * L * 2;
    s[l] = a[base + l];
    s[l + L] = a[base + l + L];
    for (uint size = 2; size <= 2 * L; size <<= 1) {
        uint dir = ((l & (size / 2)) != 0);
        for (uint stride = size / 2; stride > 0; stride >>= 1) {
            barrier(CLK_LOCAL_MEM_FENCE);
            uint pos = 2 * l - (l & (stride - 1));
            if (size == 2 * L)
                dir = 0;
            int x = s[pos], y = s[pos + stride];
            if ((x > y) != dir) {
                s[pos] = y;
                s[pos + stride] = x;
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    a[base + l] = s[l];
    a[base + l + L] = s[l + L];
}

__kernel void dot_product(__global const double *x, __global const double *y, __global double *partial, __local double *sh, int n) {
    int l = get_local_id(0);
    double s = 0.0;
    for (int k = get_global_id(0); k < n; k += get_global_size(0))
        s = fma(x[k], y[k], s);
    sh[l] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int st = get_local_size(0) / 2; st > 0; st >>= 1) {
        if (l < st)
            sh[l] += sh[l + st];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0)
        partial[get_group_id(0)] = sh[0];
}

__kernel void stencil3d(__global const float *in, __global float *out) {
    int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
    int X = get_global_size(0), Y = get_global_size(1), Z = get_global_size(2);
    int idx = (z * Y + y) * X + x;
    float c = in[idx];
    float s = -6.0f * c;
    s += x > 0 ? in[idx - 1] : c;
    s += x < X - 1 ? in[idx + 1] : c;
    s += y > 0 ? in[idx - X] : c;
    s += y < Y - 1 ? in[idx + X] : c;
    s += z > 0 ? in[idx - X * Y] : c;
    s += z < Z - 1 ? in[idx + X * Y] : c;
    out[idx] = c + 0.1f * s;
}
