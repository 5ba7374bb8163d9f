// Switch statements: fallthrough, default in the middle, sparse and dense cases, narrow
// and wide selectors, negative cases.
__kernel void sw_int(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int x = in[g];
    int r = 0;
    switch (x) {
    case 0: r += 1;
    case 1: r += 2; break;
    case 2:
    case 3: r += 4;
    default: r += 8;
    case 7: r += 16; break;
    case -1: r = -1; break;
    case 1000000: r = 77; break;
    case 0x7fffffff: r = 99;
    case -2147483647 - 1: r += 5; break;
    }
    out[g] = r;
}

__kernel void sw_char(__global const char *in, __global int *out) {
    int g = get_global_id(0);
    char c = in[g];
    int r;
    switch (c) {
    case -128: r = 1; break;
    case -1: r = 2; break;
    case 'a': case 'e': case 'i': case 'o': case 'u': r = 3; break;
    case 127: r = 4; break;
    case 0: r = 5; break;
    default: r = (int)c * 10;
    }
    out[g] = r;
}

__kernel void sw_long(__global const long *in, __global long *out) {
    int g = get_global_id(0);
    long x = in[g];
    long r = 0;
    switch (x) {
    case 0x100000000L: r = 1; break;
    case -0x100000000L: r = 2; break;
    case 0x7fffffffffffffffL: r = 3; break;
    case 1: r = 4;
    case 2: r += 5; break;
    case (long)0x8000000000000000UL: r = 6; break;
    default: r = x ^ 0x5555;
    }
    out[g] = r;
}

__kernel void sw_ushort(__global const ushort *in, __global int *out) {
    int g = get_global_id(0);
    int r = 0;
    for (int k = 0; k < 3; ++k) {
        ushort s = in[g] + k;
        switch (s) {
        case 0xffff: r += 1; break;
        case 0x8000: r += 2; break;
        case 0: r += 3;
        case 1: r += 4; break;
        default: r += s & 3; continue;
        }
        r *= 3;
    }
    out[g] = r;
}

// A dense switch inside a loop (a jump table) driving a tiny state machine.
__kernel void state_machine(__global const uchar *prog, __global int *out, int len) {
    int g = get_global_id(0);
    int acc = g, st = 0;
    for (int pc = 0; pc < len; ++pc) {
        switch ((prog[pc] + st + g) % 8) {
        case 0: acc += 1; st = 1; break;
        case 1: acc *= 2; st = 2; break;
        case 2: acc -= 3; st = 0; break;
        case 3: acc ^= 0x55; break;
        case 4: st = (st + 3) % 5; break;
        case 5: acc = acc >> 1; st = 4;
        case 6: acc += st; break;
        case 7: acc = -acc; st = 3; break;
        }
    }
    out[g] = acc * 8 + st;
}
