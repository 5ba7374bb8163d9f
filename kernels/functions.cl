// Function calls, inlined and not, with private pointers and divergent call sites.
__attribute__((noinline)) int square(int x) { return x * x; }

__attribute__((noinline)) void accumulate(int *acc, int v) { *acc += v; }

__attribute__((noinline)) float poly(float x, float a, float b, float c) {
    return (a * x + b) * x + c;
}

__attribute__((noinline)) int gcd(int a, int b) {
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

__attribute__((noinline)) int twice_square(int x) { return square(x) + square(x); }

static inline int helper(int x) { return x + 1; }

__kernel void functions(__global const int *in, __global int *out, __global float *fout) {
    size_t i = get_global_id(0);
    int x = in[i];
    int acc = 0;
    accumulate(&acc, square(x));
    if (x & 1)
        accumulate(&acc, twice_square(helper(x)));   // called on odd items only
    else
        accumulate(&acc, gcd(x, 12));
    out[i] = acc;
    fout[i] = poly((float)x, 0.5f, -2.0f, 1.0f);
}
