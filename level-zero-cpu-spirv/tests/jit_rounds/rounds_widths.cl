// Values of every width live across the barriers of a loop with two or three barriers per
// iteration: char, uchar, short, ushort, int, uint (>= 2^31), long and ulong with high bits
// set, negative ints sign-extended to long after a barrier, float, double, size_t, global
// and local pointers; uniform for the group (from the group id and the arguments), affine in
// the local id (lid * 3 + k as size_t and long, with negative strides) and varying.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define LLIN ((get_local_id(2) * get_local_size(1) + get_local_id(1)) * get_local_size(0) + get_local_id(0))
#define LSZ (get_local_size(0) * get_local_size(1) * get_local_size(2))
#define GRP ((get_group_id(2) * get_num_groups(1) + get_group_id(1)) * get_num_groups(0) + get_group_id(0))

// Two barriers per iteration, every width live across each.
__kernel void rw_two(__global const int *in, __global const long *inl, __global long *out,
                     __local int *t, __local long *tl, int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    char c = (char)(x >> 3);
    uchar uc = (uchar)x;
    short s = (short)(x * 77);
    ushort us = (ushort)(x ^ 0xbeef);
    uint u = (uint)x | 0x80000000u;
    long l = (long)x;
    ulong ul = (ulong)inl[g] | 0xf000000000000000UL;
    float f = (float)x * 0.125f;
    double d = (double)inl[g] * 1e-3;
    size_t aff = get_local_id(0) * 3 + 7;
    long affl = (long)get_local_id(0) * -5 - 3;
    long uni = (long)get_group_id(0) * 0x100000001L - 0x7fffffff00000000L;
    int uni32 = (int)get_group_id(0) * -3 - 1;
    uint uniu = 0xfffffff0u - (uint)get_group_id(1);
    __global const int *gp = in + g;
    __local int *lp = t + lid;
    for (int r = 0; r < rounds; r++) {
        t[lid] = x + r;
        tl[lid] = l ^ (long)ul;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = t[(lid + 1 + r) % lsz];
        long nbl = tl[(lid * 7 + r) % lsz];
        c += (char)nb;
        uc ^= (uchar)(nb >> 2);
        s -= (short)nb;
        us += (ushort)(nb * 3);
        u = u * 2654435761u + (uint)nb;
        l = l * 3 - nbl;
        aff += 2;
        affl -= 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        *lp = (int)(u >> 1) ^ (int)aff;
        ul = (ul >> 1) | ((ulong)nb << 63);
        f = f * 1.5f + (float)nbl;
        d = d - (double)nb * 0.25;
        uni += r * 0x10000000000L;
        uni32 ^= r;
        uniu += (uint)r * 0x40000000u;
        x ^= nb;
        barrier(CLK_LOCAL_MEM_FENCE);
        x += lp[0] + *gp;
    }
    __global long *o = out + g * 16;
    o[0] = c;
    o[1] = uc;
    o[2] = s;
    o[3] = us;
    o[4] = u;
    o[5] = (long)(int)u;
    o[6] = l;
    o[7] = (long)ul;
    o[8] = as_int(f);
    o[9] = as_long(d);
    o[10] = (long)aff;
    o[11] = affl;
    o[12] = uni;
    o[13] = uni32;
    o[14] = uniu;
    o[15] = x;
}

// Narrow values whose 64-bit forms after the barrier depend on all 32 bits: uint >= 2^31
// widened with and without sign, ints that are negative sign-extended, products wider than
// 32 bits of 32-bit values read after a barrier, and 64-bit values whose low halves alone
// look like narrow ones.
__kernel void rw_high(__global const int *in, __global const long *inl, __global long *out,
                      __local uint *t) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    uint u = (uint)x ^ 0x80000000u;
    uint uu = 0xffffffffu - (uint)lid;
    int neg = -1 - (int)lid * 1000003;
    long hi = inl[g] | (long)0x8000000000000000UL;
    long lo32 = (long)(uint)x;
    ulong sh = (ulong)x << 32;
    short sneg = (short)(-1 - (short)lid);
    char cneg = (char)(-128 + (char)(lid & 63));
    t[lid] = u;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint nb = t[(lid + 3) % lsz];
    long p1 = (long)u * (long)nb;
    ulong p2 = (ulong)uu * (ulong)u;
    long s1 = (long)neg + (long)(int)nb;
    barrier(CLK_LOCAL_MEM_FENCE);
    t[lid] = uu;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint nb2 = t[lsz - 1 - lid];
    __global long *o = out + g * 16;
    o[0] = (long)u;
    o[1] = (long)(int)u;
    o[2] = (long)uu;
    o[3] = (long)(int)uu;
    o[4] = neg;
    o[5] = (long)(uint)neg;
    o[6] = hi;
    o[7] = lo32;
    o[8] = (long)sh;
    o[9] = sneg;
    o[10] = cneg;
    o[11] = p1;
    o[12] = (long)p2;
    o[13] = s1;
    o[14] = (long)nb2 * (long)(int)nb2;
    o[15] = (long)mul_hi(u, nb2) ^ ((long)(nb2 >> 31) << 40);
}

// Vectors and pointers across barriers in a loop whose counter is a size_t; a pointer that
// walks through a buffer by a uniform stride, one that walks by the lane.
__kernel void rw_vec_ptr(__global const int4 *in, __global int4 *out, __global long *outl,
                         __local int4 *t, uint rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int4 v = in[g];
    long2 w = convert_long2(v.xy) * (long2)(-0x123456789L, 0x100000001L);
    uchar4 b = convert_uchar4(v);
    double2 dd = convert_double2(v.zw) / 3.0;
    __global const int4 *p = in + g;
    __global const int4 *q = in + GRP * lsz;
    __local int4 *lp = t + (lsz - 1 - lid);
    for (size_t r = 0; r < rounds; r++) {
        *lp = v;
        barrier(CLK_LOCAL_MEM_FENCE);
        int4 nb = t[(lid + r) % lsz];
        barrier(CLK_LOCAL_MEM_FENCE);
        v = v.yzwx + nb + q[r % lsz];
        w = w * 3 + convert_long2(nb.zw);
        b = b.wzyx ^ convert_uchar4(nb);
        dd = dd * 0.5 + convert_double2(nb.xy);
        p = p + (r & 1);
        lp = t + ((lsz - 1 - lid + r + 1) % lsz);
    }
    out[g] = v + *p + convert_int4(b);
    outl[g * 4] = w.x;
    outl[g * 4 + 1] = w.y;
    outl[g * 4 + 2] = as_long(dd.x);
    outl[g * 4 + 3] = as_long(dd.y);
}

// rw_two's narrow values alone (small enough for the widest chunks at -O2): char, uchar,
// short, ushort, int, uint >= 2^31, float, with uniform and y-derived ones.
__kernel void rw_narrow(__global const int *in, __global int *out, __local int *t, int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    int x = in[g];
    char c = (char)(x >> 5);
    uchar uc = (uchar)(x >> 9);
    short s = (short)(x >> 13);
    ushort us = (ushort)x;
    uint u = (uint)x | 0x80000000u;
    float f = (float)(x >> 8);
    int y = (int)get_local_id(1) * -7 - 1;
    uint uy = 0xfffffff0u + (uint)get_global_id(1);
    for (int r = 0; r < rounds; r++) {
        t[lid] = x ^ (int)u;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nb = t[(lid + 3 + (uint)r) % lsz];
        c -= (char)nb;
        uc += (uchar)(nb >> 3);
        s ^= (short)nb;
        us -= (ushort)(nb >> 1);
        barrier(CLK_LOCAL_MEM_FENCE);
        u = (u >> 1 | u << 31) + (uint)nb;
        f = f * 0.5f - (float)(nb & 0xffff);
        x += nb + y;
        y = y * 3 + 1;
        uy ^= (uint)r << 30;
    }
    __global int *o = out + g * 10;
    o[0] = c;
    o[1] = uc;
    o[2] = s;
    o[3] = us;
    o[4] = (int)u;
    o[5] = as_int(f);
    o[6] = x;
    o[7] = y;
    o[8] = (int)uy;
    o[9] = (int)(((long)(int)u) >> 32);
}

// rw_two's 64-bit values alone: long and ulong with high bits, double, size_t affine and
// uniform, global and local pointers, y-derived 64-bit values.
__kernel void rw_wide(__global const long *in, __global long *out, __local long *t, int rounds) {
    uint lid = LLIN, lsz = LSZ;
    size_t g = GRP * lsz + lid;
    long l = in[g];
    ulong ul = (ulong)l | 0x8000000000000000UL;
    double d = (double)(l >> 11);
    size_t aff = get_local_id(0) * 3 + 0xffffffff0ul;
    long affn = -(long)get_local_id(0) * 9 - 0x100000000L;
    long yv = (long)get_local_id(1) * 0x100000001L - (long)get_group_id(1);
    __global const long *gp = in + g;
    __local long *lp = t + lsz - 1 - lid;
    for (int r = 0; r < rounds; r++) {
        *lp = l ^ (long)aff;
        barrier(CLK_LOCAL_MEM_FENCE);
        long nb = t[(lid + (uint)r + 1) % lsz];
        l = l * 5 + nb;
        ul = (ul >> 3) ^ (ulong)nb;
        aff += 7;
        barrier(CLK_LOCAL_MEM_FENCE);
        d = d * 0.25 + (double)(nb >> 12);
        affn -= yv;
        yv ^= (long)r << 50;
        l += *gp;
    }
    __global long *o = out + g * 7;
    o[0] = l;
    o[1] = (long)ul;
    o[2] = as_long(d);
    o[3] = (long)aff;
    o[4] = affn;
    o[5] = yv;
    o[6] = *lp;
}
