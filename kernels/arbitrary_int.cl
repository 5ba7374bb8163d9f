// spirv-ext: +SPV_INTEL_arbitrary_precision_integers
// Integers of widths other than 8, 16, 32, 64 (SPIR-V `ArbitraryPrecisionIntegersINTEL`).
// At -O2 clang turns the loops of `tri` and `cubes` into closed forms computed in 33-bit
// integers (their products must wrap at 2^33); `bitint` loads, computes in and stores C23
// `_BitInt(33)` and `unsigned _BitInt(5)` values, whose memory size is that of the next
// power-of-two integer (8 and 1 bytes: what `sizeof` says).

// out[i]: 0 + 1 + ... + (n[i] - 1), wrapping at 2^32.
__kernel void tri(__global const uint *n, __global uint *out) {
  size_t i = get_global_id(0);
  uint m = n[i];
  uint s = 0;
  for (uint k = 0; k < m; k++) {
    s += k;
  }
  out[i] = s;
}

// out[i]: 0^3 + 1^3 + ... + (n[i] - 1)^3, wrapping at 2^32.
__kernel void cubes(__global const uint *n, __global uint *out) {
  size_t i = get_global_id(0);
  uint m = n[i];
  uint s = 0;
  for (uint k = 0; k < m; k++) {
    s += k * k * k;
  }
  out[i] = s;
}

typedef _BitInt(33) i33;
typedef unsigned _BitInt(5) u5;

// b[i] = a[i] * 3 + 1 (wrapping at 2^33); c[i] = i * 7 + a[i] (wrapping at 2^5);
// out[i]: both widened to long, plus the sizes of the two types.
__kernel void bitint(__global const i33 *a, __global i33 *b, __global u5 *c,
                     __global long *out) {
  size_t i = get_global_id(0);
  i33 x = a[i] * 3 + 1;
  b[i] = x;
  u5 y = (u5)i * 7 + (u5)a[i];
  c[i] = y;
  out[i * 3] = (long)x;
  out[i * 3 + 1] = (long)y;
  out[i * 3 + 2] = sizeof(i33) * 100 + sizeof(u5);
}
