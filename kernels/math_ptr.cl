// OpenCL.std functions with a second result stored through a pointer, and nan().
__kernel void math_ptr(__global const float *in, __global float *out, __global int *exps,
                       __global float4 *vout) {
    size_t i = get_global_id(0);
    float x = in[i];
    float c, fl, ip;
    int e;
    __global float *o = out + i * 6;
    o[0] = sincos(x, &c);
    o[1] = c;
    o[2] = fract(x, &fl);
    o[3] = fl;
    o[4] = modf(x, &ip);
    o[5] = ip;
    float m = frexp(x, &e);
    exps[i] = e;
    float4 v = (float4)(x, -x, 2.0f * x, 0.5f);
    float4 vc;
    vout[i * 2] = sincos(v, &vc);
    vout[i * 2 + 1] = vc + (float4)(m, 0.0f, 0.0f, isnan(nan(7u)) ? 1.0f : 0.0f);
}
