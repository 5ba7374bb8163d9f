// Conversions: plain, saturating, rounding, reinterpreting, sign/zero extension.
__kernel void conversions(__global const float *f, __global const int *n, __global int *iout,
                          __global float *fout, __global uchar *ucout, __global long *lout) {
    size_t i = get_global_id(0);
    float x = f[i];
    int k = n[i];
    __global int *io = iout + i * 8;
    io[0] = (int)x;                 // round toward zero
    io[1] = convert_int_sat(x * 1e10f);
    io[2] = convert_int_rte(x);
    io[3] = convert_int_rtp(x);
    io[4] = convert_int_rtn(x);
    io[5] = as_int(x);
    io[6] = (int)(char)k;           // truncate + sign-extend
    io[7] = (int)(uchar)k;          // truncate + zero-extend
    __global float *fo = fout + i * 4;
    fo[0] = (float)k;
    fo[1] = (float)(uint)k;
    fo[2] = as_float(k);
    fo[3] = (float)(long)k * 3.0f;
    ucout[i * 2] = convert_uchar_sat(k);
    ucout[i * 2 + 1] = convert_uchar_sat_rte(x);
    lout[i * 2] = (long)k * 100000;
    lout[i * 2 + 1] = (long)(ulong)(uint)k;
}
