// Control flow: if/else chains, every loop shape, break/continue, switch, early return;
// work-items diverge on their own data.
__kernel void control_flow(__global const int *in, __global int *out) {
    size_t i = get_global_id(0);
    int x = in[i];
    int acc = 0;
    if (x < 0) {
        acc = -x;
    } else if (x < 10) {
        acc = x * 2;
    } else {
        acc = x + 100;
    }
    for (int k = 0; k < (x & 7); k++)      // for with a data-dependent trip count
        acc += k ^ x;
    int w = x & 15;
    while (w > 3) {                        // while with continue and break
        w -= 2;
        if (w == 7)
            continue;
        if (w == 4)
            break;
        acc ^= w;
    }
    int d = 0;
    do {                                   // do-while
        d++;
        acc ^= d * 5;                      // (a plain sum becomes i33 maths at -O2)
    } while (d < (x & 3));
    switch (x) {        // switch with fall-through (on `x & 7` clang would switch on an i3)
    case 0:
        acc += 1;
    case 1:
        acc += 10;
        break;
    case 3:
        acc *= 3;
        break;
    case 5:
    case 6:
        acc -= 5;
        break;
    default:
        acc += 1000;
    }
    for (int a = 0; a < 3; a++)            // nested loops
        for (int b = 0; b <= a; b++)
            if ((a + b + x) & 1)
                acc += a * b;
    if (x == 42) {                         // early return
        out[i] = -1;
        return;
    }
    out[i] = acc;
}

// Collatz steps: loops with a trip count that differs wildly between work-items.
__kernel void collatz(__global const uint *in, __global uint *steps) {
    size_t i = get_global_id(0);
    uint n = in[i];
    uint s = 0;
    while (n > 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        s++;
    }
    steps[i] = s;
}

// Loop-carried values that swap (parallel copies of OpPhi): Fibonacci mod 2^32.
__kernel void fibonacci(__global const uint *in, __global uint *out) {
    size_t i = get_global_id(0);
    uint a = 0, b = 1;
    for (uint k = 0; k < in[i]; k++) {
        uint t = a + b;
        a = b;
        b = t;
    }
    out[i] = a;
}
