// Work that lanes must not do on a path they do not take: loads past the end of a buffer
// and stores guarded by a per-lane condition, integer divisions guarded against 0 and
// MIN / -1 (x86's division traps on both), loads in loop iterations a lane does not run.
// Executing both sides for every lane (with masks or selects) would fault or trap here.

// `in` has `valid` elements; the launch has more work-items.
__kernel void guarded_load(__global const int *in, __global int *out, int valid) {
    int g = get_global_id(0) - get_global_offset(0);
    int x;
    if (g < valid)
        x = in[g];
    else
        x = -1;
    int y = g < valid ? in[valid - 1 - g] : -2;
    out[g * 2] = x;
    out[g * 2 + 1] = y;
}

// `out` has `valid` elements; `all` has one per work-item, filled by the test: lanes that do
// not store must leave their slot as it was.
__kernel void guarded_store(__global const int *in, __global int *out, __global int *all, int valid) {
    int g = get_global_id(0) - get_global_offset(0);
    int x = in[g];
    if (g < valid)
        out[g] = x * 3;
    if (x & 1)
        all[g] = x;
    else if (x & 2)
        all[g] = -x;
}

__kernel void guarded_div(__global const int *xs, __global const int *ds, __global const long *ls,
                          __global int *out, __global long *lout) {
    int g = get_global_id(0) - get_global_offset(0);
    int x = xs[g], d = ds[g];
    int q = 0, r = 0;
    if (d != 0 && !(x == INT_MIN && d == -1)) {
        q = x / d;
        r = x - q * d;
    }
    uint uq = d ? (uint)x / (uint)d : 7u;
    long l = ls[g];
    long lq = (d != 0 && !(l == LONG_MIN && d == -1)) ? l / d : 9;
    ulong ur = d ? (ulong)l % (ulong)(uint)d : 11;
    short sq = 0;
    if ((short)d != 0)
        sq = (short)x / (short)d;
    out[g * 4 + 0] = q;
    out[g * 4 + 1] = r;
    out[g * 4 + 2] = (int)uq;
    out[g * 4 + 3] = sq;
    lout[g * 2] = lq;
    lout[g * 2 + 1] = (long)ur;
}

// A per-lane trip count: each lane reads in[4 g + i] for i < cnt[g] only; `in` ends right after
// the last element any lane reads.
__kernel void loop_loads(__global const int *cnt, __global const int *in, __global int *out) {
    int g = get_global_id(0) - get_global_offset(0);
    int c = cnt[g];
    int s = 0;
    for (int i = 0; i < c; i++)
        s = s * 7 + in[4 * g + i];
    int t = 0;
    int i = 0;
    while (i < c && in[4 * g + i] != 0) {
        t += in[4 * g + i];
        i++;
    }
    out[g * 2] = s;
    out[g * 2 + 1] = t;
}
