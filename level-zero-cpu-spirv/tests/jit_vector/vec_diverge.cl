// Divergence inside chunks of 16 lanes: a condition true for exactly one lane, for lane 15
// only, alternating lanes; loops with per-lane trip counts; switches; divergence that
// reconverges before a barrier; early returns with no barrier after.
static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

// in: N ints; out: 8 N ints. `sel` picks the lane of the one-lane conditions.
__kernel void div_lanes(__global const int *in, __global int *out, int sel) {
    size_t N = total(), i = lin();
    size_t l = get_local_id(0);
    int x = in[i];
    int a = x, b = 0, c = 1;
    if (l == (size_t)sel)
        a = x * 7 + 1;
    if ((l & 15) == 15)
        b = x - 3;
    else
        b = x + 3;
    if (l & 1)
        c = a + b;
    else
        c = a - b;
    if ((i & 15) == (size_t)(sel & 15)) {
        out[7 * N + i] = c;
    } else {
        out[7 * N + i] = -c;
    }
    long w = (long)x << 33;
    if (x < 0)
        w = -w + 1;
    double dd = (double)x;
    if (l == 0)
        dd = dd * 0.5;
    out[i] = a;
    out[N + i] = b;
    out[2 * N + i] = c;
    out[3 * N + i] = (int)(w >> 32);
    out[4 * N + i] = (int)dd;
    if (l == (size_t)sel)
        out[5 * N + i] = x;
    out[6 * N + i] = (l > (size_t)sel) ? x : -x;
}

// Loops with a trip count per lane (in[i] & 31), nested in a uniform loop, with break and
// continue; the results of every lane. in: N ints; out: 4 N ints.
__kernel void div_loops(__global const int *in, __global int *out, int rounds) {
    size_t N = total(), i = lin();
    int x = in[i];
    int acc = 0;
    long lacc = 1;
    for (int r = 0; r < rounds; r++) {
        int t = (x >> (r * 3)) & 31;
        int k = 0;
        while (k < t) {
            if (((k + r) & 7) == 5) {
                k += 2;
                continue;
            }
            acc += k * (r + 1);
            lacc = lacc * 3 + k;
            if (acc > 5000 + (int)i)
                break;
            k++;
        }
        acc ^= k;
    }
    int j = 0;
    do {
        j++;
    } while (j < (x & 15) + (int)(i & 3));
    out[i] = acc;
    out[N + i] = (int)lacc;
    out[2 * N + i] = (int)(lacc >> 32);
    out[3 * N + i] = j;
}

// Switches on varying selectors (the same in every lane of a chunk for (i >> 4) & 3 when
// the chunk is aligned, different otherwise), with fall-through. in: N ints; out: 3 N ints;
// k0 = 0 (keeps clang from narrowing the selector to an i2, which llvm-spirv refuses).
__kernel void div_switch(__global const int *in, __global int *out, int k0) {
    size_t N = total(), i = lin();
    int x = in[i];
    int r = 0;
    switch ((int)((i >> 4) & 3) + k0) {
    case 0:
        r = x + 1;
        break;
    case 1:
        r = x * 2;
    case 2:
        r += 5;
        break;
    default:
        r = -x;
    }
    int s = 0;
    switch ((x & 7) + k0) {
    case 1:
        s = 10;
        break;
    case 3:
    case 4:
        s = r ^ 0x55;
        break;
    case 6:
        s = (int)i;
    default:
        s += 1;
    }
    long t;
    switch ((long)get_global_id(0) - (long)get_global_offset(0)) {
    case 0:
        t = 100;
        break;
    case 15:
        t = 1500;
        break;
    case 17:
        t = -17;
        break;
    default:
        t = (long)x * 3;
    }
    out[i] = r;
    out[N + i] = s;
    out[2 * N + i] = (int)t;
}

// Divergence that reconverges before a barrier, values of every kind live across it.
// in: N ints; out: 6 N ints; sh: L ints.
__kernel void div_then_barrier(__global const int *in, __global int *out, __local int *sh,
                               int u) {
    size_t N = total(), i = lin();
    size_t l = get_local_id(0) + get_local_size(0) * (get_local_id(1) + get_local_size(1) * get_local_id(2));
    size_t L = get_local_size(0) * get_local_size(1) * get_local_size(2);
    int x = in[i];
    int v = u;
    long w = (long)i * 3;
    short s = (short)x;
    float f = (float)x * 0.25f;
    if (x & 1) {
        v = u + 1;
        w = -w;
        s = (short)(s * 3);
        f = f + 1.0f;
    } else if (l == 15) {
        v = u - 1;
    }
    sh[l] = x + v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int y = sh[(l + 1) % L];
    out[i] = v;
    out[N + i] = (int)w;
    out[2 * N + i] = (int)(w >> 32);
    out[3 * N + i] = s;
    out[4 * N + i] = as_int(f);
    out[5 * N + i] = y;
}

// Early returns with no barrier after: some lanes leave, the others go on.
__kernel void div_return(__global const int *in, __global int *out, int lim) {
    size_t N = total(), i = lin();
    int x = in[i];
    out[i] = -1;
    if ((int)get_local_id(0) == lim)
        return;
    out[i] = x;
    if (x > lim * 1000)
        return;
    out[N + i] = x * 2;
    if ((i & 1) == 0)
        return;
    out[2 * N + i] = x * 3;
}
