// Structs by value (kernel arguments, function arguments and results) and by pointer.
typedef struct {
    char c;
    int i;
    float f;
    long l;
    short s[3];
    float4 v;
} S;

typedef struct { int a, b; } P;

P mkp(int a, int b) { P p = {a, b}; return p; }
P addp(P x, P y) { return mkp(x.a + y.a, x.b * y.b); }

S bump(S s, int k) {
    s.c += k;
    s.i *= k;
    s.f -= k;
    s.l <<= k;
    s.s[k % 3] = -s.s[k % 3];
    s.v.y += (float)k;
    return s;
}

void bump_ptr(S *s, int k) {
    s->i ^= k;
    s->s[1] += k;
    s->v = s->v.wzyx;
}

__kernel void by_value(S s, P p, __global S *out, __global P *pout) {
    int g = get_global_id(0);
    S t = bump(s, g);
    bump_ptr(&t, g + 1);
    out[g] = t;
    P q = mkp(g, g + 1);
    for (int k = 0; k < 3; ++k)
        q = addp(q, p);
    pout[g] = q;
}

__kernel void by_pointer(__global S *io, __global const P *ps) {
    int g = get_global_id(0);
    __global S *s = &io[g];
    s->c = (char)(s->c + ps[g].a);
    s->i = s->i * ps[g].b;
    s->f = s->f + s->i;
    s->l = s->l - ps[g].a;
    s->s[g % 3] = (short)(s->s[(g + 1) % 3] + 1);
    S copy = *s;
    copy.v = (float4)(copy.f, copy.i, copy.c, copy.l);
    io[(g + 1) % get_global_size(0) + get_global_size(0)] = copy;
}
