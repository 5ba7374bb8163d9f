// Control flow that differs among the lanes of a SIMD group: the inputs are chosen so that
// every pattern of taken/not-taken over 4 consecutive work-items occurs (see the test).
// After a divergent region the lanes reconverge and the code after it is vector code again.

// if/else chains; a value assigned in some lanes only (a phi of a uniform and a varying).
__kernel void div_if(__global const int *in, __global int *out, int a, int b) {
    size_t g = get_global_id(0);
    int x = in[g];
    int r = a;
    if (x & 1) {
        r = x * 3;
        if (x & 2)
            r += 7;
        else
            r -= (int)g;
    } else if (x & 4) {
        r = -x;
    } else if (x & 8) {
        r = b;
    }
    // A phi of two uniform values under a varying condition is varying.
    int p = (x & 16) ? a : b;
    int q;
    if (x & 32)
        q = a + 1;
    else
        q = b - 1;
    out[g * 3 + 0] = r;
    out[g * 3 + 1] = p;
    out[g * 3 + 2] = q;
}

// Early returns at several points, some before any store: the lanes that returned store
// nothing (the test fills `out` first).
__kernel void div_return(__global const int *in, __global int *out, int n) {
    size_t g = get_global_id(0);
    int x = in[g];
    if (x & 1)
        return;
    out[g * 2] = x;
    uint s = (uint)x;
    for (int i = 0; i < n; i++) {
        if ((x & 2) && i == 2)
            return;
        s = s * 2654435761u + (uint)i;
    }
    if (x & 4) {
        out[g * 2 + 1] = (int)s;
        return;
    }
    out[g * 2 + 1] = (int)(s ^ 0xffff);
}

// Loops with per-lane trip counts, break and continue differing per lane, and the loop's
// counter used after it (its last value differs by lane).
__kernel void div_loop(__global const int *in, __global int *out, int n) {
    size_t g = get_global_id(0);
    int x = in[g];
    uint s = 0;
    int i;
    for (i = 0; i < n; i++) {
        if (i == (x & 7))
            continue;
        if (i * i > (x >> 4))
            break;
        s += (uint)(i ^ x);
        if ((s & 31) == 3)
            break;
    }
    // do-while and while(1) with a break.
    int j = 0;
    do {
        j = j * 2 + 1 + (x & 3);
    } while (j < (x & 255));
    int k = x & 63;
    uint h = 1;
    while (1) {
        if (k <= 1)
            break;
        h = h * 31 + (uint)k;
        k = (k & 1) ? 3 * k + 1 : k / 2;
        if (h == 0)
            break;
    }
    // Nested: uniform outer loop, varying inner.
    uint t = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < (x & 3) + a; b++)
            t = t * 7 + (uint)(a * 10 + b);
    out[g * 5 + 0] = (int)s;
    out[g * 5 + 1] = i;
    out[g * 5 + 2] = j;
    out[g * 5 + 3] = (int)h;
    out[g * 5 + 4] = (int)t;
}

// Switches: on the lane, on data, with fall-through, and on a uniform value inside a
// divergent region.
__kernel void div_switch(__global const int *in, __global int *out, int u) {
    size_t g = get_global_id(0);
    int lid = get_local_id(0);
    int x = in[g];
    int r = 0;
    switch (lid % 6) {
    case 0:
        r = 10;
        break;
    case 1:
        r = 11;
    case 2:
        r += 12;
        break;
    case 4:
        r = x;
        break;
    default:
        r = -1;
    }
    int w = 0;
    switch (x % 9) {
    case 0:
    case -7:
    case 7:
        w = 70;
        break;
    case 3:
    case -4:
        w = x * 2;
    case 5:
        w += 5;
        break;
    default:
        w = (int)g;
    }
    int v = 0;
    if (x & 8) {
        switch (u) {
        case 0:
            v = 100;
            break;
        case 1:
            v = 101 + x;
            break;
        default:
            v = u * 2;
        }
    }
    out[g * 3 + 0] = r;
    out[g * 3 + 1] = w;
    out[g * 3 + 2] = v;
}

// A uniform loop (trip count from an argument) with varying code inside: a varying
// continue, a varying break, loop-carried values updated in some lanes only; then vector
// stores after the reconvergence.
__kernel void div_in_uniform_loop(__global const int *in, __global float4 *out4, __global int *out, int n) {
    size_t g = get_global_id(0);
    int x = in[g];
    int acc = 0, cnt = 0;
    float4 f = (float4)(0.0f);
    for (int i = 0; i < n; i++) {
        if (((x >> (i & 7)) & 1) == 0)
            continue;
        acc += i * x;
        cnt++;
        f.x += (float)i;
        f.y -= 0.5f;
        if (cnt > 3 && (x & 0x100))
            break;
        f.z = (float)acc;
    }
    f.w = (float)cnt;
    out4[g] = f;
    out[g * 2 + 0] = acc;
    out[g * 2 + 1] = cnt;
}

// Ternary chains (selects at -O2, branches at -O0), a condition that is varying in form but
// the same in every lane (g < a huge bound) and one that differs only in the last lane of
// the launch.
__kernel void div_ternary(__global const int *in, __global int *out, int big) {
    size_t g = get_global_id(0);
    int x = in[g];
    int a = x > 5 ? (x < 20 ? x * 2 : x - 20) : (x == 3 ? 33 : -x);
    long l = (x & 1) ? (long)x << 33 : (long)x * -3;
    float f = (x & 2) ? (float)x * 0.5f : -0.0f;
    int same = 0;
    if ((int)g < big)
        same = x + 1;
    else
        same = -1;
    int tail = 7;
    if (g == get_global_offset(0) + get_global_size(0) - 1)
        tail = x * 9;
    __global int *o = out + g * 6;
    o[0] = a;
    o[1] = (int)(l >> 32);
    o[2] = (int)l;
    o[3] = as_int(f);
    o[4] = same;
    o[5] = tail;
}

// Irreducible control flow (a loop with two entries): lanes enter at different blocks.
__kernel void div_goto(__global const int *in, __global int *out) {
    size_t g = get_global_id(0);
    int x = in[g];
    int n = 0;
    uint s = (uint)x;
    if (x & 1)
        goto second;
first:
    s = s * 3 + 1;
    n++;
second:
    s ^= s >> 3;
    n++;
    if (n < (x & 7) + 2)
        goto first;
    out[g * 2] = (int)s;
    out[g * 2 + 1] = n;
}
