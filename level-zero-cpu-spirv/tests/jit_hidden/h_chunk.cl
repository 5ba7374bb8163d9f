// Patterns of real kernels around barriers: a reduction in a non-inlined helper that holds
// the barriers, a barrier under a condition uniform in the work-group, a convergence loop
// whose exit flag one work-item writes to local memory, char/short comparisons and
// arithmetic per work-item, a 2-D __local float4 tile.

__attribute__((noinline)) float group_sum(__local float *s, float v) {
    int l = get_local_id(0), L = get_local_size(0);
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int st = L / 2; st > 0; st >>= 1) {
        if (l < st)
            s[l] += s[l + st];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Normalises each group's values by their sum, twice (the helper is called twice).
__kernel void normalise(__global const float *in, __global float *out, __local float *s) {
    int g = get_global_id(0);
    float v = in[g];
    float t = group_sum(s, v);
    float w = v / t;
    float t2 = group_sum(s, w * w);
    out[g] = w + t2;
}

// Barriers under a condition the same for the whole work-group.
__kernel void uniform_if_barrier(__global int *out, __global const int *mode) {
    __local int t[256];
    int l = get_local_id(0), L = get_local_size(0), gr = get_group_id(0);
    int m = mode[gr];
    t[l] = l;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (m == 1) {
        int x = t[(l + 1) % L];
        barrier(CLK_LOCAL_MEM_FENCE);
        t[l] = x * 2;
        barrier(CLK_LOCAL_MEM_FENCE);
    } else if (m == 2) {
        for (int k = 0; k < 3; ++k) {
            int x = t[L - 1 - l];
            barrier(CLK_LOCAL_MEM_FENCE);
            t[l] = x + k;
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    out[get_global_id(0)] = t[l] + m * 1000;
}

// Jacobi-style relaxation until no value changes: the exit flag lives in local memory.
__kernel void converge(__global const int *in, __global int *out, __global int *iters) {
    __local int v[256];
    __local int changed;
    int l = get_local_id(0), L = get_local_size(0);
    v[l] = in[get_global_id(0)];
    int n = 0, again;
    do {
        if (l == 0)
            changed = 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        int left = l > 0 ? v[l - 1] : v[l];
        int me = v[l];
        barrier(CLK_LOCAL_MEM_FENCE);
        int nv = max(me, left - 1);
        if (nv != me) {
            v[l] = nv;
            changed = 1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        again = changed;
        barrier(CLK_LOCAL_MEM_FENCE); // everyone has read the flag before it is reset
        ++n;
    } while (again && n < 1000);
    out[get_global_id(0)] = v[l];
    if (l == 0)
        iters[get_group_id(0)] = n;
}

// char and short values per work-item: compares, wrap, saturation, division.
__kernel void narrow_ints(__global const char *c, __global const short *s, __global int *out) {
    int g = get_global_id(0);
    char a = c[g], b = c[g + 1];
    short x = s[g], y = s[g + 1];
    int r = 0;
    r |= (a < b) << 0;
    r |= (a <= (char)-1) << 1;
    r |= ((uchar)a > (uchar)b) << 2;
    r |= (x < y) << 3;
    r |= (x >= (short)-300) << 4;
    r |= ((ushort)x < (ushort)y) << 5;
    char m = max(a, b), mn = min(a, b);
    short sm = max(x, y);
    char q = b != 0 && !(a == -128 && b == -1) ? a / b : 0;
    short qs = y != 0 && !(x == -32768 && y == -1) ? x % y : 0;
    uchar u = (uchar)a + (uchar)b;
    char sh = a >> (b & 7);
    uchar ush = (uchar)a >> ((uchar)b & 7);
    out[g * 4] = r;
    out[g * 4 + 1] = m * 1000 + mn;
    out[g * 4 + 2] = sm * 7 + q + qs * 3;
    out[g * 4 + 3] = u + sh * 512 + ush * 65536;
}

// A 2-D tile of float4 in local memory: each work-item averages its 3x3 neighbourhood.
__kernel void tile4(__global const float4 *in, __global float4 *out, int w) {
    __local float4 t[18][18];
    int lx = get_local_id(0), ly = get_local_id(1);
    int gx = get_global_id(0), gy = get_global_id(1);
    int LX = get_local_size(0), LY = get_local_size(1);
    for (int y = ly; y < LY + 2; y += LY)
        for (int x = lx; x < LX + 2; x += LX) {
            int sx = clamp((int)get_group_id(0) * LX + x - 1, 0, w - 1);
            int sy = clamp((int)get_group_id(1) * LY + y - 1, 0, (int)get_global_size(1) - 1);
            t[y][x] = in[sy * w + sx];
        }
    barrier(CLK_LOCAL_MEM_FENCE);
    float4 s = (float4)(0.0f);
    for (int dy = 0; dy < 3; ++dy)
        for (int dx = 0; dx < 3; ++dx)
            s += t[ly + dy][lx + dx];
    out[gy * w + gx] = s / 9.0f;
}
