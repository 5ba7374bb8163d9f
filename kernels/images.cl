// clang: -Xclang -cl-ext=+cl_khr_3d_image_writes
// Images and samplers (SPIR-V ImageBasic, LiteralSampler, Sampled1D): reads, writes and
// sampled reads with every conversion kind, samplers from arguments and constants, queries.
#pragma OPENCL EXTENSION cl_khr_3d_image_writes : enable

// dst = 2 * src, through float reads and writes (normalised or float formats).
__kernel void img_scale(__read_only image2d_t src, __write_only image2d_t dst) {
  int2 p = (int2)(get_global_id(0), get_global_id(1));
  write_imagef(dst, p, read_imagef(src, p) * 2.0f);
}

// Integer reads and writes: dst = src + add (saturated by the write).
__kernel void img_int(__read_only image2d_t src, __write_only image2d_t dst, int add) {
  int2 p = (int2)(get_global_id(0), get_global_id(1));
  write_imagei(dst, p, read_imagei(src, p) + add);
}

__kernel void img_uint3d(__read_only image3d_t src, __write_only image3d_t dst) {
  int4 p = (int4)(get_global_id(0), get_global_id(1), get_global_id(2), 0);
  write_imageui(dst, p, read_imageui(src, p) * 3u);
}

// Samples a 1-D array image at n coordinates (x, layer) with the argument sampler.
__kernel void img_sample(__read_only image1d_array_t src, sampler_t s,
                         __global const float2 *coords, __global float4 *out) {
  size_t i = get_global_id(0);
  out[i] = read_imagef(src, s, coords[i]);
}

// The same on a 2-D image.
__kernel void img_sample2d(__read_only image2d_t src, sampler_t s, __global const float2 *coords,
                           __global float4 *out) {
  size_t i = get_global_id(0);
  out[i] = read_imagef(src, s, coords[i]);
}

// A constant sampler with integer coordinates: clamp (border) outside.
const sampler_t border = CLK_NORMALIZED_COORDS_FALSE | CLK_ADDRESS_CLAMP | CLK_FILTER_NEAREST;
__kernel void img_border(__read_only image2d_t src, __global uint4 *out) {
  int x = get_global_id(0), y = get_global_id(1);
  out[y * get_global_size(0) + x] =
      read_imageui(src, border, (int2)(x - 1, y - 1));
}

// Queries: 8 ints.
__kernel void img_query(__read_only image3d_t a, __read_only image2d_array_t b,
                        __read_only image1d_t c, __global int *out) {
  out[0] = get_image_width(a);
  out[1] = get_image_height(a);
  out[2] = get_image_depth(a);
  out[3] = get_image_array_size(b);
  out[4] = get_image_channel_data_type(b);
  out[5] = get_image_channel_order(b);
  out[6] = get_image_width(c);
  out[7] = get_image_channel_data_type(c);
}
