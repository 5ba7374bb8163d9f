// Integer operations on mixes of narrow (32-bit lanes) and wide (64-bit lanes) values under
// the vector path: sign extension of ids (global offsets near 2^31 and 2^32 make the ids of
// one chunk cross those bounds), 32-bit wrap-around in index computations, shifts by uniform
// amounts at and above the width, signed compares of 32-bit values kept in wide slots,
// selects with vector conditions, min/max, saturating and rotating operations.
static size_t lin(void) {
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    return (z * get_global_size(1) + y) * get_global_size(0) + x;
}

static size_t total(void) {
    return get_global_size(0) * get_global_size(1) * get_global_size(2);
}

// out: 24 N longs.
__kernel void int_ids(__global long *out, int k) {
    size_t N = total(), i = lin();
    size_t g = get_global_id(0);
    int gi = (int)g;
    uint gu = (uint)g;
    short gs = (short)g;
    char gc = (char)g;
    out[i] = (long)gi;
    out[N + i] = (long)gu;
    out[2 * N + i] = (long)gs;
    out[3 * N + i] = (long)gc;
    out[4 * N + i] = (long)(gi + k);
    out[5 * N + i] = (long)(gu * 3u);
    out[6 * N + i] = gi < 0;
    out[7 * N + i] = gi < k;
    out[8 * N + i] = gu > (uint)k;
    out[9 * N + i] = (long)g < (long)0x80000000L;
    out[10 * N + i] = (long)(gi >> 3);
    out[11 * N + i] = (long)(gu >> 3);
    out[12 * N + i] = (long)(g >> 31);
    out[13 * N + i] = (long)((long)gi * (long)gi);
    out[14 * N + i] = (long)(gi * gi);
    out[15 * N + i] = (long)mul_hi(gi, 0x7654321);
    out[16 * N + i] = (long)mul_hi(gu, 0x87654321u);
    out[17 * N + i] = (long)(short)(gs * 7);
    out[18 * N + i] = (long)abs(gi);
    out[19 * N + i] = (long)abs_diff(gi, k);
    out[20 * N + i] = (long)add_sat(gi, 0x7ffffff0);
    out[21 * N + i] = (long)rotate(gu, (uint)k);
    out[22 * N + i] = (long)clz(gu) + ((long)popcount(gu) << 8);
    out[23 * N + i] = (long)(-gi) ^ (long)~gu;
}

// Shifts by uniform amounts (sh: an argument in 0..70: OpenCL masks it by the width) and by
// varying ones, of every width. in: N ints; out: 16 N longs.
__kernel void int_shifts(__global const int *in, __global long *out, int sh) {
    size_t N = total(), i = lin();
    int x = in[i];
    uint ux = (uint)x;
    long lx = (long)x * 0x100000001L;
    ulong ulx = (ulong)lx;
    short s = (short)x;
    uchar c = (uchar)x;
    out[i] = x << sh;
    out[N + i] = x >> sh;
    out[2 * N + i] = ux >> sh;
    out[3 * N + i] = lx << sh;
    out[4 * N + i] = lx >> sh;
    out[5 * N + i] = (long)(ulx >> sh);
    out[6 * N + i] = (short)(s << sh);
    out[7 * N + i] = (short)(s >> sh);
    out[8 * N + i] = (uchar)(c << sh);
    out[9 * N + i] = (uchar)(c >> (sh & 7));
    out[10 * N + i] = x << (x & 31);
    out[11 * N + i] = lx >> (x & 63);
    out[12 * N + i] = (long)(ux << (uint)(sh + 1));
    out[13 * N + i] = (long)((ulong)ux << 32 >> sh);
    out[14 * N + i] = (long)(s >> 15) + (long)((short)(s << 15));
    out[15 * N + i] = (long)((int)i << sh) - (long)((size_t)i << (sh & 63));
}

// 32-bit wrap-around in index computations: int index arithmetic that overflows, uint
// arithmetic masked back into range. in: N ints; out: 6 N ints.
__kernel void int_wrap(__global const int *in, __global int *out, int big) {
    size_t N = total(), i = lin();
    int ii = (int)i;
    uint ui = (uint)i;
    // big = 0x7fffffff: ii + big overflows to negative, then back
    int a = (ii + big) - big;
    uint b = (ui + (uint)big * 2u + 2u);
    int n = (int)N;
    out[i] = in[a];
    out[N + i] = in[b];
    out[2 * N + i] = in[(uint)(ii * 0x10001) % (uint)n];
    out[3 * N + i] = in[(ui * 2654435761u) % (uint)n];
    out[4 * N + i] = in[(size_t)(uint)(ii - n) + (size_t)n - 0x100000000UL];
    out[5 * N + i] = in[(int)(ui + 0xffffffffu) + 1];
}

// Signed compares of 32-bit values kept in wide slots (bit casts, vector extracts), selects
// with vector conditions, min/max of every signedness. in: 2 N ints; out: 16 N ints.
__kernel void int_cmp_select(__global const int *in, __global int *out, int k) {
    size_t N = total(), i = lin();
    int x = in[i], y = in[N + i];
    float fx = as_float(x);
    int xb = as_int(fx);
    int2 v = (int2)(x, y);
    int vy = v.y;
    int4 w = (int4)(x, y, x ^ y, k);
    int4 z = (int4)(y, x, k, x + y);
    int4 m = w < z;
    int4 sel = select(w, z, m);
    int4 sel2 = m ? w : z;
    out[i] = xb < k;
    out[N + i] = vy > x;
    out[2 * N + i] = xb <= vy;
    out[3 * N + i] = (uint)xb >= (uint)vy;
    out[4 * N + i] = sel.x + sel.y * 3 + sel.z * 5 + sel.w * 7;
    out[5 * N + i] = sel2.x ^ sel2.y ^ sel2.z ^ sel2.w;
    out[6 * N + i] = min(x, y);
    out[7 * N + i] = max((uint)x, (uint)y);
    out[8 * N + i] = min(x, k);
    out[9 * N + i] = max((uint)x, (uint)k);
    out[10 * N + i] = (int)min((long)x, (long)y * 2);
    out[11 * N + i] = clamp(x, -1000, k);
    out[12 * N + i] = x > y ? x - y : y - x;
    out[13 * N + i] = (x < 0) == (y < 0);
    out[14 * N + i] = !x + !(y & 1) * 2;
    out[15 * N + i] = (x & 0xffff) < ((uint)y >> 16);
}

// Narrow and wide values mixed in one expression chain, with results wrapping at 8, 16, 32
// and 64 bits. in: N longs; out: 10 N longs.
__kernel void int_mix(__global const long *in, __global long *out, long u) {
    size_t N = total(), i = lin();
    long x = in[i];
    int lo = (int)x, hi = (int)(x >> 32);
    long s = (long)lo + (long)hi;
    ulong us = (ulong)(uint)lo + (ulong)(uint)hi;
    int prod = lo * hi;
    long lprod = (long)lo * (long)hi;
    out[i] = s;
    out[N + i] = (long)us;
    out[2 * N + i] = prod;
    out[3 * N + i] = lprod;
    out[4 * N + i] = x * u + (long)i;
    out[5 * N + i] = (long)(short)(lo + hi) * (long)(char)x;
    out[6 * N + i] = (x >> 63) ^ (long)(lo >> 31);
    out[7 * N + i] = x < u ? x : u;
    out[8 * N + i] = (ulong)x < (ulong)u;
    out[9 * N + i] = (long)(uint)(lo - hi) - (long)(lo - hi);
}
