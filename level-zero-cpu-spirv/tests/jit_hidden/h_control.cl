// Control flow of real kernels: divergent loops with break and continue, nested ifs on the
// local id, switch with fallthrough, early returns (no barrier after), ternaries,
// do-while, goto-like -O0 code; helper functions with pointer arguments to private, local
// and global memory, structs by value and by pointer, arrays of structs, private arrays
// indexed at run time.

typedef struct {
    float x, y, z;
    int id;
} Particle;

typedef struct {
    int count;
    float sum;
    short tag[3];
    char flag;
} Acc;

__attribute__((noinline)) void acc_add(Acc *a, float v, int k) {
    a->count += 1;
    a->sum += v;
    a->tag[k % 3] += (short)k;
    a->flag ^= (char)(v > 0.0f);
}

__attribute__((noinline)) Acc acc_merge(Acc a, Acc b) {
    Acc r;
    r.count = a.count + b.count;
    r.sum = a.sum - b.sum;
    for (int k = 0; k < 3; ++k)
        r.tag[k] = a.tag[k] * b.tag[2 - k];
    r.flag = a.flag | (b.flag << 1);
    return r;
}

__attribute__((noinline)) float dist2(Particle p, __global const Particle *q) {
    float dx = p.x - q->x, dy = p.y - q->y, dz = p.z - q->z;
    return dx * dx + dy * dy + dz * dz;
}

__attribute__((noinline)) void bump_local(__local int *l, int k, int v) {
    l[k] += v;
}

__attribute__((noinline)) int sum_private(const int *a, int n) {
    int s = 0;
    for (int k = 0; k < n; ++k)
        s += a[k] * (k + 1);
    return s;
}

__attribute__((noinline)) void write_global(__global int *p, int v) {
    *p = v;
}

__kernel void loops(__global const int *in, __global int *out, int n) {
    int g = get_global_id(0);
    int x = in[g];
    int s = 0, k;
    for (k = 0; k < n; ++k) {
        if ((x % 7 + k) % 7 == 0)
            continue;
        if (s > (x & 0xff) * 3)
            break;
        s += (k ^ x) & 0xffff;
    }
    int t = 0;
    int j = x & 31;
    do {
        t = t * 5 + j;
        j -= 3;
    } while (j > 0);
    int w = 0;
    while (1) {
        w++;
        if (w * w > (x & 1023))
            break;
    }
    int nested = 0;
    for (int a = 0; a < (x & 7); ++a)
        for (int b = a; b < 8; ++b) {
            if (b == 6 && (x & 8))
                goto done;
            nested = (nested * 3 + a * b) & 0xffffff;
        }
done:
    out[g * 5] = s;
    out[g * 5 + 1] = k;
    out[g * 5 + 2] = t;
    out[g * 5 + 3] = w;
    out[g * 5 + 4] = nested;
}

__kernel void switches(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int x = in[g];
    int r = 0;
    switch (x % 13) {
    case 0:
        r += 1;
    case 1:
        r += 10;
        break;
    case 2:
    case 3:
        r = x / 2;
    case 4:
        r += 100;
    case 5:
        r -= 7;
        break;
    case 9:
        r = -1;
        break;
    case 12:
        return;     // early exit: out stays as it was
    default:
        r = x >> 4;
    }
    switch (x / 3) {
    case 7: r ^= 0x700;
    case 6: r ^= 0x60;
        break;
    case 0: r += 1000000;
    }
    out[g] = r;
}

__kernel void lid_nests(__global int *out) {
    size_t l = get_local_id(0), gr = get_group_id(0), g = get_global_id(0);
    int v;
    if (l < get_local_size(0) / 2) {
        if (l & 1)
            v = (int)l * 3;
        else if (l % 3 == 0)
            v = -(int)l;
        else
            v = 77;
    } else {
        v = l == get_local_size(0) - 1 ? 1000 : (l % 5 ? 5 : 50);
    }
    if (gr & 1)
        v = v * 3 - 10;
    if (g % 11 == 3)
        return;
    out[g] = v + (int)(gr * 100000);
}

__kernel void helpers(__global const Particle *ps, __global const float *vals, __global int *iout, __global float *fout, __local int *scratch) {
    int g = get_global_id(0), l = get_local_id(0), n = get_global_size(0);
    scratch[l] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    Particle me = ps[g];
    float best = INFINITY;
    int bi = -1;
    for (int k = 0; k < 8; ++k) {
        int j = (g + k * 13 + 1) % n;
        float d = dist2(me, &ps[j]);
        if (d < best) {
            best = d;
            bi = ps[j].id;
        }
    }
    Acc a = {0, 0.0f, {0, 0, 0}, 0}, b = {1, 1.0f, {1, 2, 3}, 1};
    for (int k = 0; k < (g & 7) + 1; ++k) {
        acc_add(&a, vals[(g + k) % n], k);
        acc_add(&b, -vals[(g * 3 + k) % n], k + 1);
    }
    Acc m = acc_merge(a, b);
    int priv[10];
    for (int k = 0; k < 10; ++k)
        priv[k] = (g * 7 + k * k) % 23;
    priv[(g + 3) % 10] = -priv[g % 10];
    int sp = sum_private(priv, 1 + g % 10);
    bump_local(scratch, (l + 1) % get_local_size(0), 1);
    barrier(CLK_LOCAL_MEM_FENCE);
    bump_local(scratch, l, l);
    barrier(CLK_LOCAL_MEM_FENCE);
    write_global(&iout[g * 6], bi);
    iout[g * 6 + 1] = m.count;
    iout[g * 6 + 2] = m.tag[0] + m.tag[1] * 100 + m.tag[2] * 10000;
    iout[g * 6 + 3] = m.flag;
    iout[g * 6 + 4] = sp;
    iout[g * 6 + 5] = scratch[l];
    fout[g * 2] = best;
    fout[g * 2 + 1] = m.sum;
}

// An array of structs updated in place (an n-body style step), with per-item divergence.
__kernel void particles(__global Particle *ps, __global const float4 *vel, float dt, int n) {
    int g = get_global_id(0);
    if (g >= n)
        return;
    Particle p = ps[g];
    float4 v = vel[g];
    for (int k = 0; k < 4; ++k) {
        p.x += v.x * dt;
        p.y += v.y * dt;
        p.z += v.z * dt;
        if (p.x > 10.0f || p.x < -10.0f)
            v.x = -v.x;
        if (p.id % 3 == 0)
            v *= 0.5f;
    }
    p.id = p.id * 2 + (p.y > 0.0f);
    ps[g] = p;
}

// Private arrays indexed by data: a tiny insertion sort and a lookup table per work-item.
__kernel void private_sort(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int a[8];
    for (int k = 0; k < 8; ++k)
        a[k] = in[(g * 8 + k * 5) % 256];
    for (int k = 1; k < 8; ++k) {
        int v = a[k], j = k - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            --j;
        }
        a[j + 1] = v;
    }
    uchar lut[16];
    for (int k = 0; k < 16; ++k)
        lut[k] = (uchar)(k * 17 + g);
    int h = 0;
    for (int k = 0; k < 8; ++k)
        h = h * 31 + lut[a[k] & 15];
    for (int k = 0; k < 8; ++k)
        out[g * 9 + k] = a[k];
    out[g * 9 + 8] = h;
}
