// Math functions called out to the interpreter's operations, including those with pointer
// outputs into private, local and global memory.
__kernel void math_ptrs(__global const float *xs, __global float *out, __global int *iout) {
    __local float lf[64];
    int g = get_global_id(0), lid = get_local_id(0);
    float x = xs[g];
    int e;
    float m = frexp(x, &e);
    float ip;
    float fr = modf(x, &ip);
    float c;
    float s = sincos(x, &c);

    float rq = remainder(x, 0.75f);
    float fl;
    float fc = fract(x, &fl);
    float gl;
    float lg = lgamma(fabs(x) + 0.5f);
    lf[lid] = 0;
    float fr2 = fract(x * 3.0f, &lf[lid]);
    out[g * 12 + 0] = m;
    out[g * 12 + 1] = fr;
    out[g * 12 + 2] = ip;
    out[g * 12 + 3] = s;
    out[g * 12 + 4] = c;
    out[g * 12 + 5] = rq;
    out[g * 12 + 6] = fc + fl;
    out[g * 12 + 7] = lg;
    out[g * 12 + 8] = fr2 + lf[lid];
    out[g * 12 + 9] = ldexp(x, g - 5) + pown(x, g % 5) + rootn(fabs(x), 3);
    out[g * 12 + 10] = exp(x) + log(fabs(x) + 1) + pow(fabs(x), 0.5f) + atan2(x, 1.5f);
    out[g * 12 + 11] = hypot(x, 2.0f) + fmod(x, 0.3f) + remainder(x, 0.3f) + copysign(1.0f, x);
    iout[g * 2] = e;
    iout[g * 2 + 1] = (int)(fl * 3.0f);
}

__kernel void math_vec(__global const float4 *xs, __global float4 *out) {
    int g = get_global_id(0);
    float4 x = xs[g];
    float4 ip;
    float4 r = modf(x, &ip) + floor(x) + ceil(x) * 2 + round(x) * 4 + trunc(x) * 8 + rint(x) * 16;
    r += fmin(x, ip) + fmax(x, (float4)(0.5f)) + step(0.1f, x) + smoothstep(-1.0f, 1.0f, x);
    r += clamp(x, -2.0f, 2.0f) + mix(x, ip, 0.25f) + sign(x) + degrees(x) + radians(x);
    out[g] = r + sqrt(fabs(x)) + rsqrt(fabs(x) + 1.0f) + native_recip(x + 100.0f) + half_divide(x, 3.0f);
}
