// Early returns of some work-items before a barrier-free loop; the rest run a loop whose
// trip count differs per item; divergent paths that rejoin.
__kernel void early_return(__global const int *in, __global int *out, int n) {
    int g = get_global_id(0);
    out[g] = -1;
    if (in[g] < 0)
        return;
    int s = 0;
    for (int i = 0; i < in[g] % n; ++i) {
        if (i == 5 && (g & 1))
            return;
        s = s * 3 + (i ^ in[g]);
    }
    out[g] = s;
}


__kernel void divergent(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int x = in[g];
    int y;
    if (x & 1) {
        y = x * 3;
        if (x & 2)
            y += 7;
    } else if (x & 4) {
        y = -x;
    } else {
        y = x ^ 0x55;
        for (int i = 0; i < (x & 7); ++i)
            y = y * 5 + i;
    }
    out[g] = y;
}
