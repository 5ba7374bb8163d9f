// Loops whose phis carry several values of different types, nested loops, break/continue.
__kernel void multi_phi(__global const int *in, __global long *out, int n) {
    int g = get_global_id(0);
    int a = in[g], b = 1, c = 0;
    long acc = 0;
    float f = 0.5f;
    uint u = 0xdeadbeefu;
    for (int i = 0; i < n + (g & 3); ++i) {
        int t = a;
        a = b + (c ^ i);
        b = t - c;
        c = c * 3 + (t & 7);
        acc += (long)a * b - c;
        f = f * 1.5f - (float)i;
        u = (u << 3) | (u >> 29);
        if ((i & 5) != 4)
            u ^= (uint)acc;
        if (acc > 1000000000L) break;
    }
    out[g * 4 + 0] = acc;
    out[g * 4 + 1] = ((long)a << 32) | (uint)b;
    out[g * 4 + 2] = (long)u + c;
    out[g * 4 + 3] = as_int(f);
}

__kernel void nested(__global const int *in, __global int *out, int n) {
    int g = get_global_id(0);
    int s = 0, p = 1;
    for (int i = 0; i < n; ++i) {
        int q = in[(g + i) % 64];
        for (int j = i; j < n; j += 2) {
            int r = q;
            for (int k = 0; k <= (j & 3); ++k) {
                r = r * 7 + k;
                if (r & 1) s += r; else p ^= r;
            }
            if (r > 0x10000) break;
            q += r;
        }
        s += q;
        p = p * 31 + s;
    }
    out[2 * g] = s;
    out[2 * g + 1] = p;
}

// A swap of values through phis (the classic lost-copy / swap problem).
__kernel void swap_phis(__global int *out, int n) {
    int g = get_global_id(0);
    int x = g, y = 100 + g, z = -g;
    for (int i = 0; i < n; ++i) {
        int t = x;
        x = y;
        y = z;
        z = t;
        if (i == g) { x += 1000; }
    }
    out[3 * g] = x;
    out[3 * g + 1] = y;
    out[3 * g + 2] = z;
}

// do-while with a vector carried value and while(1) with several exits.
__kernel void vec_loop(__global const float4 *in, __global float4 *out, __global int *exits, int n) {
    int g = get_global_id(0);
    float4 v = in[g];
    float4 w = (float4)(0.0f);
    int i = 0;
    do {
        w = w + v * (float)i;
        v = v.yzwx - (float4)(0.25f);
        ++i;
    } while (i < n && w.x < 100.0f);
    int e = 0;
    while (1) {
        if (i > 40) { e = 0x1234 + i; break; }
        if (v.x < -10.0f) { e = 0x777 * i; break; }
        v.x -= 1.5f;
        i += 3;
    }
    out[g] = w + v;
    exits[g] = e * 1000 + i;
}
