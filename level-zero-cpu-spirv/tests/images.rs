//! Image instructions (`kernels/images.cl`) on the engine, with images over test buffers:
//! conversions of every channel kind on read and write, swizzles, saturation, sampling with
//! each addressing and filter mode at points whose results are known exactly, constant
//! samplers, queries, and the launch failures (coordinates outside the image, an image of
//! another shape than the kernel declares).

mod common;
use common::*;
use level_zero_cpu_spirv::{
    AddressMode, ChannelType, ExecError, FilterMode, ImageDim, ImageFormat, SamplerArg, Swizzle,
};

const RGBA: [Swizzle; 4] = [
    Swizzle::Channel(0),
    Swizzle::Channel(1),
    Swizzle::Channel(2),
    Swizzle::Channel(3),
];
const BGRA: [Swizzle; 4] = [
    Swizzle::Channel(2),
    Swizzle::Channel(1),
    Swizzle::Channel(0),
    Swizzle::Channel(3),
];
const R001: [Swizzle; 4] = [
    Swizzle::Channel(0),
    Swizzle::Zero,
    Swizzle::Zero,
    Swizzle::One,
];

fn fmt(
    channels: u8,
    channel_bytes: u8,
    channel_type: ChannelType,
    swizzle: [Swizzle; 4],
) -> ImageFormat {
    ImageFormat {
        channels,
        channel_bytes,
        channel_type,
        swizzle,
    }
}

fn img(dim: ImageDim, extent: [u32; 3], format: ImageFormat) -> Img {
    Img {
        dim,
        extent,
        format,
    }
}

fn both(f: impl Fn(&str)) {
    for opt in ["O0", "O2"] {
        f(opt);
    }
}

#[test]
fn unorm_and_float_reads_and_writes_convert_exactly() {
    both(|opt| {
        let p = program("images", opt);
        let (w, h) = (5u32, 3u32);
        let n = (w * h * 4) as usize;
        let src: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
        let mut m = Mem::default();
        let (is, id) = (m.add(&src), m.zeros::<u8>(n));
        let f = fmt(4, 1, ChannelType::Unorm, RGBA);
        m.launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(is, img(ImageDim::D2, [w, h, 1], f)),
                EArg::Image(id, img(ImageDim::D2, [w, h, 1], f)),
            ],
            [w, h, 1],
            [1, 1, 1],
        )
        .unwrap();
        // 2 * v / 255, clamped to 1, back to 8 bits: min(2v, 255).
        let want: Vec<u8> = src
            .iter()
            .map(|&v| (2 * u32::from(v)).min(255) as u8)
            .collect();
        assert_eq!(m.get::<u8>(id), want, "{opt}: RGBA unorm8");

        // Float channels: exact doubling; half channels too.
        let fsrc: Vec<f32> = (0..n).map(|i| i as f32 * 0.75 - 20.0).collect();
        let (fs, fd) = (m.add(&fsrc), m.zeros::<f32>(n));
        let ff = fmt(4, 4, ChannelType::Float, RGBA);
        m.launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(fs, img(ImageDim::D2, [w, h, 1], ff)),
                EArg::Image(fd, img(ImageDim::D2, [w, h, 1], ff)),
            ],
            [w, h, 1],
            [1, 1, 1],
        )
        .unwrap();
        let want: Vec<f32> = fsrc.iter().map(|v| v * 2.0).collect();
        assert_eq!(m.get::<f32>(fd), want, "{opt}: RGBA float");

        let hsrc: Vec<u16> = (0..n)
            .map(|i| half::f16::from_f32(i as f32 * 0.5).to_bits())
            .collect();
        let (hs, hd) = (m.add(&hsrc), m.zeros::<u16>(n));
        let hf = fmt(4, 2, ChannelType::Float, RGBA);
        m.launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(hs, img(ImageDim::D2, [w, h, 1], hf)),
                EArg::Image(hd, img(ImageDim::D2, [w, h, 1], hf)),
            ],
            [w, h, 1],
            [1, 1, 1],
        )
        .unwrap();
        let want: Vec<u16> = (0..n)
            .map(|i| half::f16::from_f32(i as f32).to_bits())
            .collect();
        assert_eq!(m.get::<u16>(hd), want, "{opt}: RGBA half");

        // Snorm16, 2 channels: -1 stays -1 (the clamp), v * 2 otherwise.
        let ssrc: Vec<i16> = (0..(w * h * 2) as i32)
            .map(|i| (i * 1000 - 12000) as i16)
            .collect();
        let (ss, sd) = (m.add(&ssrc), m.zeros::<i16>(ssrc.len()));
        let sf = fmt(2, 2, ChannelType::Snorm, RGBA);
        m.launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(ss, img(ImageDim::D2, [w, h, 1], sf)),
                EArg::Image(sd, img(ImageDim::D2, [w, h, 1], sf)),
            ],
            [w, h, 1],
            [1, 1, 1],
        )
        .unwrap();
        let want: Vec<i16> = ssrc
            .iter()
            .map(|&v| (i32::from(v) * 2).clamp(-32767, 32767) as i16)
            .collect();
        assert_eq!(m.get::<i16>(sd), want, "{opt}: RG snorm16");
    });
}

#[test]
fn swizzles_choose_channels_on_read_and_write() {
    both(|opt| {
        let p = program("images", opt);
        let (w, h) = (4u32, 2u32);
        let n = (w * h * 4) as usize;
        let src: Vec<u8> = (0..n).map(|i| (i * 3) as u8).collect();
        let mut m = Mem::default();
        let (is, id) = (m.add(&src), m.zeros::<u8>(n));
        // Read as BGRA (x is channel 2), written as RGBA: channels 0 and 2 swap.
        m.launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(
                    is,
                    img(ImageDim::D2, [w, h, 1], fmt(4, 1, ChannelType::Unorm, BGRA)),
                ),
                EArg::Image(
                    id,
                    img(ImageDim::D2, [w, h, 1], fmt(4, 1, ChannelType::Unorm, RGBA)),
                ),
            ],
            [w, h, 1],
            [1, 1, 1],
        )
        .unwrap();
        let out = m.get::<u8>(id);
        for t in 0..(w * h) as usize {
            let s = &src[t * 4..t * 4 + 4];
            let want = [s[2], s[1], s[0], s[3]].map(|v| v * 2);
            assert_eq!(&out[t * 4..t * 4 + 4], &want, "{opt}: texel {t}");
        }
    });
}

#[test]
fn integer_writes_saturate() {
    both(|opt| {
        let p = program("images", opt);
        let (w, h) = (8u32, 2u32);
        let src: Vec<i8> = (0..(w * h) as i32).map(|i| (i * 16 - 128) as i8).collect();
        let mut m = Mem::default();
        let (is, id) = (m.add(&src), m.zeros::<i8>(src.len()));
        let f = fmt(1, 1, ChannelType::Sint, R001);
        for add in [100i32, -100] {
            m.launch_with(
                &p,
                "img_int",
                &[
                    EArg::Image(is, img(ImageDim::D2, [w, h, 1], f)),
                    EArg::Image(id, img(ImageDim::D2, [w, h, 1], f)),
                    EArg::Val(add.to_le_bytes().to_vec()),
                ],
                [w, h, 1],
                [1, 1, 1],
            )
            .unwrap();
            let want: Vec<i8> = src
                .iter()
                .map(|&v| (i32::from(v) + add).clamp(-128, 127) as i8)
                .collect();
            assert_eq!(m.get::<i8>(id), want, "{opt}: add {add}");
        }
        // 3-D, RG uint16: 3 * v saturated at 65535.
        let ext = [4u32, 3, 2];
        let count = (ext[0] * ext[1] * ext[2] * 2) as usize;
        let u: Vec<u16> = (0..count).map(|i| (i * 2900) as u16).collect();
        let (us, ud) = (m.add(&u), m.zeros::<u16>(count));
        let f = fmt(2, 2, ChannelType::Uint, RGBA);
        m.launch_with(
            &p,
            "img_uint3d",
            &[
                EArg::Image(us, img(ImageDim::D3, ext, f)),
                EArg::Image(ud, img(ImageDim::D3, ext, f)),
            ],
            ext,
            [1, 1, 1],
        )
        .unwrap();
        let want: Vec<u16> = u
            .iter()
            .map(|&v| (u32::from(v) * 3).min(65535) as u16)
            .collect();
        assert_eq!(m.get::<u16>(ud), want, "{opt}: 3-D uint16");
    });
}

fn sampler(address: AddressMode, filter: FilterMode, normalized: bool) -> SamplerArg {
    SamplerArg {
        address,
        filter,
        normalized,
    }
}

/// Samples `coords` of a 4-texel, 2-layer RGBA float 1-D array whose texel i of layer l is
/// (10i + 100l, 1, 2, 3).
fn sample_1d(opt: &str, s: SamplerArg, coords: &[[f32; 2]]) -> Vec<[f32; 4]> {
    let p = program("images", opt);
    let data: Vec<f32> = (0..2)
        .flat_map(|l| (0..4).flat_map(move |i| [10.0 * i as f32 + 100.0 * l as f32, 1.0, 2.0, 3.0]))
        .collect();
    let mut m = Mem::default();
    let (is, ic, io) = (
        m.add(&data),
        m.add(coords),
        m.zeros::<[f32; 4]>(coords.len()),
    );
    m.launch_with(
        &p,
        "img_sample",
        &[
            EArg::Image(
                is,
                img(
                    ImageDim::D1Array,
                    [4, 2, 1],
                    fmt(4, 4, ChannelType::Float, RGBA),
                ),
            ),
            EArg::Sampler(s),
            EArg::Buf(ic),
            EArg::Buf(io),
        ],
        [coords.len() as u32, 1, 1],
        [1, 1, 1],
    )
    .unwrap();
    m.get(io)
}

#[test]
fn sampling_follows_each_addressing_and_filter_mode() {
    both(|opt| {
        // Texel centres of a 4-texel image, normalised: (i + 0.5) / 4.
        let c = |i: f32| (i + 0.5) / 4.0;
        let x = |v: Vec<[f32; 4]>| v.iter().map(|t| t[0]).collect::<Vec<f32>>();
        // Nearest, clamp to edge: centres, outside on both sides, layer rounding (0.6 -> 1).
        let s = sampler(AddressMode::ClampToEdge, FilterMode::Nearest, true);
        let got = x(sample_1d(
            opt,
            s,
            &[
                [c(0.0), 0.0],
                [c(3.0), 0.0],
                [-0.5, 0.0],
                [1.7, 0.0],
                [c(2.0), 0.6],
                [c(1.0), 7.0],
            ],
        ));
        assert_eq!(
            got,
            vec![0.0, 30.0, 0.0, 30.0, 120.0, 110.0],
            "{opt}: nearest, clamp to edge"
        );
        // Linear: exact at centres, the mean half-way, the edge texel beyond the edge.
        let s = sampler(AddressMode::ClampToEdge, FilterMode::Linear, true);
        let got = x(sample_1d(
            opt,
            s,
            &[[c(1.0), 0.0], [0.5, 0.0], [c(0.25), 0.0], [0.0, 0.0]],
        ));
        assert_eq!(
            got,
            vec![10.0, 15.0, 2.5, 0.0],
            "{opt}: linear, clamp to edge"
        );
        // Repeat: 1 + c(0) is texel 0, -c(0) wraps to texel 3; linear across the wrap.
        let s = sampler(AddressMode::Repeat, FilterMode::Nearest, true);
        let got = x(sample_1d(
            opt,
            s,
            &[[1.0 + c(0.0), 0.0], [1.0 - c(0.0), 0.0]],
        ));
        assert_eq!(got, vec![0.0, 30.0], "{opt}: repeat");
        let s = sampler(AddressMode::Repeat, FilterMode::Linear, true);
        let got = x(sample_1d(opt, s, &[[1.0, 0.0]]));
        assert_eq!(
            got,
            vec![15.0],
            "{opt}: linear repeat between texels 3 and 0"
        );
        // Mirror: 1 + c(0) mirrors to c(3).
        let s = sampler(AddressMode::Mirror, FilterMode::Nearest, true);
        let got = x(sample_1d(opt, s, &[[1.0 + c(0.0), 0.0], [-c(1.0), 0.0]]));
        assert_eq!(got, vec![30.0, 10.0], "{opt}: mirror");
        // Clamp: outside reads the border colour, which has alpha 0 for RGBA.
        let s = sampler(AddressMode::Clamp, FilterMode::Nearest, true);
        let got = sample_1d(opt, s, &[[-0.1, 0.0], [c(2.0), 0.0]]);
        assert_eq!(
            got,
            vec![[0.0; 4], [20.0, 1.0, 2.0, 3.0]],
            "{opt}: clamp to border"
        );
        // Unnormalised coordinates.
        let s = sampler(AddressMode::ClampToEdge, FilterMode::Nearest, false);
        let got = x(sample_1d(opt, s, &[[2.5, 1.0], [3.99, 0.0]]));
        assert_eq!(got, vec![120.0, 30.0], "{opt}: unnormalised");
    });
}

#[test]
fn two_d_linear_sampling_weights_four_texels() {
    both(|opt| {
        let p = program("images", opt);
        // 2 x 2 unorm8 R image: 0, 255 / 255, 0 (red channel), sampled at the centre.
        let data: Vec<u8> = vec![0, 255, 255, 0];
        let mut m = Mem::default();
        let coords = [[0.5f32, 0.5], [0.25, 0.25], [0.5, 0.25]];
        let (is, ic, io) = (m.add(&data), m.add(&coords), m.zeros::<[f32; 4]>(3));
        m.launch_with(
            &p,
            "img_sample2d",
            &[
                EArg::Image(
                    is,
                    img(ImageDim::D2, [2, 2, 1], fmt(1, 1, ChannelType::Unorm, R001)),
                ),
                EArg::Sampler(sampler(AddressMode::ClampToEdge, FilterMode::Linear, true)),
                EArg::Buf(ic),
                EArg::Buf(io),
            ],
            [3, 1, 1],
            [1, 1, 1],
        )
        .unwrap();
        let out: Vec<[f32; 4]> = m.get(io);
        assert_eq!(out[0], [0.5, 0.0, 0.0, 1.0], "{opt}: centre");
        assert_eq!(out[1], [0.0, 0.0, 0.0, 1.0], "{opt}: texel (0,0)'s centre");
        assert_eq!(
            out[2],
            [0.5, 0.0, 0.0, 1.0],
            "{opt}: between (0,0) and (1,0)"
        );
    });
}

#[test]
fn a_constant_sampler_reads_the_border_outside() {
    both(|opt| {
        let p = program("images", opt);
        let data: Vec<u32> = (1..=9).collect();
        let mut m = Mem::default();
        let (is, io) = (m.add(&data), m.zeros::<[u32; 4]>(25));
        m.launch_with(
            &p,
            "img_border",
            &[
                EArg::Image(
                    is,
                    img(ImageDim::D2, [3, 3, 1], fmt(1, 4, ChannelType::Uint, R001)),
                ),
                EArg::Buf(io),
            ],
            [5, 5, 1],
            [1, 1, 1],
        )
        .unwrap();
        let out: Vec<[u32; 4]> = m.get(io);
        for y in 0..5 {
            for x in 0..5 {
                let inside = (1..4).contains(&x) && (1..4).contains(&y);
                // No alpha channel: the border's alpha is 1; inside, R001 gives (v, 0, 0, 1).
                let v = if inside { data[(y - 1) * 3 + x - 1] } else { 0 };
                assert_eq!(out[y * 5 + x], [v, 0, 0, 1], "{opt}: ({x}, {y})");
            }
        }
    });
}

#[test]
fn queries_give_extents_and_opencl_format_codes() {
    both(|opt| {
        let p = program("images", opt);
        let mut m = Mem::default();
        let (a, b, c, o) = (
            m.zeros::<u8>(4 * 3 * 2 * 4),
            m.zeros::<u8>(5 * 4 * 3 * 4),
            m.zeros::<f32>(7),
            m.zeros::<i32>(8),
        );
        m.launch_with(
            &p,
            "img_query",
            &[
                EArg::Image(
                    a,
                    img(ImageDim::D3, [4, 3, 2], fmt(4, 1, ChannelType::Unorm, RGBA)),
                ),
                EArg::Image(
                    b,
                    img(
                        ImageDim::D2Array,
                        [5, 4, 3],
                        fmt(4, 1, ChannelType::Unorm, RGBA),
                    ),
                ),
                EArg::Image(
                    c,
                    img(ImageDim::D1, [7, 1, 1], fmt(1, 4, ChannelType::Float, R001)),
                ),
                EArg::Buf(o),
            ],
            [1, 1, 1],
            [1, 1, 1],
        )
        .unwrap();
        // CLK_UNORM_INT8 0x10D2, CLK_RGBA 0x10B5, CLK_FLOAT 0x10DE (OpenCL's values).
        assert_eq!(
            m.get::<i32>(o),
            vec![4, 3, 2, 3, 0x10D2, 0x10B5, 7, 0x10DE],
            "{opt}"
        );
    });
}

#[test]
fn coordinates_outside_the_image_and_wrong_shapes_fail_the_launch() {
    let p = program("images", "O2");
    let mut m = Mem::default();
    let f = fmt(4, 1, ChannelType::Unorm, RGBA);
    let (is, id) = (m.zeros::<u8>(8 * 8 * 4), m.zeros::<u8>(4 * 4 * 4));
    let e = m
        .launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(is, img(ImageDim::D2, [8, 8, 1], f)),
                EArg::Image(id, img(ImageDim::D2, [4, 4, 1], f)),
            ],
            [8, 8, 1],
            [1, 1, 1],
        )
        .unwrap_err();
    let msg = format!("{e}");
    assert!(
        msg.contains("image argument 1") && msg.contains("outside its extent"),
        "{msg}"
    );
    let e = m
        .launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(is, img(ImageDim::D3, [4, 4, 4], f)),
                EArg::Image(id, img(ImageDim::D2, [4, 4, 1], f)),
            ],
            [4, 4, 1],
            [1, 1, 1],
        )
        .unwrap_err();
    assert!(
        format!("{e}").contains("D3 image; the kernel uses it as a D2 image"),
        "{e}"
    );
    // An image whose texels are not in the launch's memory: a sanitizer fault, not a read.
    let e = m
        .launch_with(
            &p,
            "img_scale",
            &[
                EArg::Image(is, img(ImageDim::D2, [64, 64, 1], f)),
                EArg::Image(id, img(ImageDim::D2, [64, 64, 1], f)),
            ],
            [16, 16, 1],
            [4, 4, 1],
        )
        .unwrap_err();
    assert!(matches!(e, ExecError::OutOfBounds { .. }), "{e:?}");
}
