//! Images and samplers through the safe API: round trips for every dimensionality and format,
//! region copies, image-to-image copies, checks made before any driver call, keep-alive of
//! images used by queued commands, ordering across lists, properties, and kernel arguments.
//! Every test ends with its `TestDriver`'s leak check (images and samplers included).

mod common;

use std::time::Duration;

use common::{TestDriver, assemble, spv};
use half::f16;
use level_zero::{
    AddressMode, BuildOptions, CommandList, CommandQueue, Context, DeviceBuffer, Error, EventPool,
    EventPoolFlags, FilterMode, HostBuffer, Image, ImageDesc, ImageFlags, ImageFormat, ImageRegion,
    ImageType, ImmediateCommandList, Kernel, Module, Sampler, SamplerDesc, SamplerFilters,
};

/// `n` pseudo-random bytes (xorshift), distinct per seed.
fn bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 11) as u8
        })
        .collect()
}

/// One description of each type, of small, odd extents.
fn every_type(f: ImageFormat) -> [ImageDesc; 5] {
    [
        ImageDesc::d1(f, 37),
        ImageDesc::d1_array(f, 13, 5),
        ImageDesc::d2(f, 11, 7),
        ImageDesc::d2_array(f, 5, 6, 3),
        ImageDesc::d3(f, 4, 5, 6),
    ]
}

/// The texels of region `r` of an image of `extent` whose texels (row-major, layers as
/// coordinates) are `all`.
fn extract<T: Copy>(extent: [u32; 3], all: &[T], r: &ImageRegion) -> Vec<T> {
    let [w, h, _] = extent.map(|e| e as usize);
    let ([ox, oy, oz], [ex, ey, ez]) = (r.origin.map(|o| o as usize), r.extent.map(|e| e as usize));
    let mut out = Vec::with_capacity(ex * ey * ez);
    for z in oz..oz + ez {
        for y in oy..oy + ey {
            for x in ox..ox + ex {
                out.push(all[(z * h + y) * w + x]);
            }
        }
    }
    out
}

/// Writes `values` into region `r` of the host model `all`.
fn insert<T: Copy>(extent: [u32; 3], all: &mut [T], r: &ImageRegion, values: &[T]) {
    let [w, h, _] = extent.map(|e| e as usize);
    let ([ox, oy, oz], [ex, ey, ez]) = (r.origin.map(|o| o as usize), r.extent.map(|e| e as usize));
    let mut v = values.iter();
    for z in oz..oz + ez {
        for y in oy..oy + ey {
            for x in ox..ox + ex {
                all[(z * h + y) * w + x] = *v.next().unwrap();
            }
        }
    }
}

fn assert_clean(t: &TestDriver) {
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn buffers_round_trip_through_images_of_every_dimensionality() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let formats = [
        ImageFormat::R8Uint,
        ImageFormat::Rg8Snorm,
        ImageFormat::Rgba8Unorm,
        ImageFormat::R16Float,
        ImageFormat::Rgba16Unorm,
        ImageFormat::R32Sint,
        ImageFormat::Rg32Float,
        ImageFormat::Rgba32Float,
    ];
    let mut seed = 1;
    for f in formats {
        for desc in every_type(f) {
            seed += 1;
            let image = Image::new(&ctx, &dev, &desc).unwrap();
            let [x, y, z] = desc.extent();
            assert_eq!(
                image.size_bytes(),
                (x * y * z) as usize * f.texel_size(),
                "{desc:?}"
            );
            let data = bytes(image.size_bytes(), seed);
            // Device buffer -> image -> host buffer.
            let src = DeviceBuffer::<u8>::new(&ctx, &dev, data.len()).unwrap();
            list.copy_from_slice(&src, &data).unwrap();
            list.copy_to_image(&image, image.region(), &src).unwrap();
            let dst = HostBuffer::<u8>::new(&ctx, data.len()).unwrap();
            list.copy_from_image(&dst, &image, image.region()).unwrap();
            list.synchronize().unwrap();
            assert_eq!(dst.to_vec().unwrap(), data, "{desc:?}");
            // And through a shared buffer, on a copy engine.
            let mut copy = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
            let shared = level_zero::SharedBuffer::<u8>::new(&ctx, &dev, data.len()).unwrap();
            copy.copy_from_image(&shared, &image, image.region())
                .unwrap();
            copy.synchronize().unwrap();
            assert_eq!(shared.to_vec().unwrap(), data, "{desc:?}");
        }
    }
    assert_clean(&t);
}

#[test]
fn every_format_round_trips_typed_texels_through_host_slices() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    for (i, &f) in ImageFormat::ALL.iter().enumerate() {
        let image = Image::new(&ctx, &dev, &ImageDesc::d2(f, 3, 2)).unwrap();
        let data = bytes(image.size_bytes(), 100 + i as u32);
        list.copy_slice_to_image(&image, image.region(), &data)
            .unwrap();
        let mut back = vec![0u8; data.len()];
        list.copy_image_to_slice(&mut back, &image, image.region())
            .unwrap();
        assert_eq!(back, data, "{f:?}");
    }
    // Texels as their Rust types.
    let rgba: Vec<[f32; 4]> = (0..24)
        .map(|i| [i as f32, -(i as f32), i as f32 * 0.5, f32::MAX])
        .collect();
    let image = Image::new(
        &ctx,
        &dev,
        &ImageDesc::d2_array(ImageFormat::Rgba32Float, 4, 3, 2),
    )
    .unwrap();
    list.copy_slice_to_image(&image, image.region(), &rgba)
        .unwrap();
    let mut back = vec![[0f32; 4]; 24];
    list.copy_image_to_slice(&mut back, &image, image.region())
        .unwrap();
    assert_eq!(back, rgba);
    let halves: Vec<[f16; 2]> = (0..10)
        .map(|i| [f16::from_f32(i as f32 / 4.0), f16::from_f32(-1.5)])
        .collect();
    let image = Image::new(&ctx, &dev, &ImageDesc::d1(ImageFormat::Rg16Float, 10)).unwrap();
    list.copy_slice_to_image(&image, image.region(), &halves)
        .unwrap();
    let mut back = vec![[f16::ZERO; 2]; 10];
    list.copy_image_to_slice(&mut back, &image, image.region())
        .unwrap();
    assert_eq!(back, halves);
    // The element type only has to cover the bytes: 3 texels of 4 bytes as 4 x [u8; 3].
    let image = Image::new(&ctx, &dev, &ImageDesc::d1(ImageFormat::R32Uint, 3)).unwrap();
    let odd = [[1u8, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]];
    list.copy_slice_to_image(&image, image.region(), &odd)
        .unwrap();
    let mut words = [0u32; 3];
    list.copy_image_to_slice(&mut words, &image, image.region())
        .unwrap();
    assert_eq!(
        words,
        [
            u32::from_le_bytes([1, 2, 3, 4]),
            u32::from_le_bytes([5, 6, 7, 8]),
            u32::from_le_bytes([9, 10, 11, 12])
        ]
    );
}

#[test]
fn region_copies_address_the_texels_they_name() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let cases: [(ImageDesc, ImageRegion, ImageRegion); 5] = [
        (
            ImageDesc::d1(ImageFormat::R32Uint, 20),
            ImageRegion::new([3, 0, 0], [9, 1, 1]),
            ImageRegion::new([15, 0, 0], [5, 1, 1]),
        ),
        (
            // Layers of a 1-D array are y.
            ImageDesc::d1_array(ImageFormat::R32Uint, 8, 4),
            ImageRegion::new([2, 1, 0], [4, 2, 1]),
            ImageRegion::new([0, 3, 0], [8, 1, 1]),
        ),
        (
            ImageDesc::d2(ImageFormat::R32Uint, 9, 7),
            ImageRegion::new([1, 2, 0], [3, 4, 1]),
            ImageRegion::new([6, 0, 0], [3, 7, 1]),
        ),
        (
            // Layers of a 2-D array are z.
            ImageDesc::d2_array(ImageFormat::R32Uint, 6, 5, 4),
            ImageRegion::new([1, 2, 1], [3, 2, 2]),
            ImageRegion::new([4, 0, 3], [2, 5, 1]),
        ),
        (
            ImageDesc::d3(ImageFormat::R32Uint, 5, 4, 6),
            ImageRegion::new([1, 1, 2], [3, 2, 3]),
            ImageRegion::new([0, 3, 5], [5, 1, 1]),
        ),
    ];
    for (desc, read, write) in cases {
        let extent = desc.extent();
        let image = Image::new(&ctx, &dev, &desc).unwrap();
        let mut model: Vec<u32> = (0..extent.iter().product::<u32>()).collect();
        list.copy_slice_to_image(&image, image.region(), &model)
            .unwrap();
        // Out through device memory.
        let n = read.extent.iter().product::<u32>() as usize;
        let out = DeviceBuffer::<u32>::new(&ctx, &dev, n).unwrap();
        list.copy_from_image(&out, &image, read).unwrap();
        let mut got = vec![0u32; n];
        list.copy_to_slice(&mut got, &out).unwrap();
        assert_eq!(got, extract(extent, &model, &read), "{desc:?} {read}");
        // In through a slice of a bigger buffer.
        let m = write.extent.iter().product::<u32>() as usize;
        let values: Vec<u32> = (0..m as u32).map(|i| 9000 + i).collect();
        let big = DeviceBuffer::<u32>::new(&ctx, &dev, m + 10).unwrap();
        list.copy_from_slice(&big.slice(5..5 + m), &values).unwrap();
        list.copy_to_image(&image, write, &big.slice(5..5 + m))
            .unwrap();
        insert(extent, &mut model, &write, &values);
        let mut all = vec![0u32; model.len()];
        list.copy_image_to_slice(&mut all, &image, image.region())
            .unwrap();
        assert_eq!(all, model, "{desc:?} {write}");
    }
}

#[test]
fn images_copy_into_images_whole_and_by_region() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let f = ImageFormat::Rgba8Uint;
    let a = Image::new(&ctx, &dev, &ImageDesc::d2(f, 8, 8)).unwrap();
    let pattern: Vec<[u8; 4]> = (0..64u8).map(|i| [i, i ^ 0xff, i / 2, 7]).collect();
    list.copy_slice_to_image(&a, a.region(), &pattern).unwrap();
    // Whole.
    let b = Image::new(&ctx, &dev, &ImageDesc::d2(f, 8, 8)).unwrap();
    list.copy_image(&b, &a).unwrap();
    let mut back = vec![[0u8; 4]; 64];
    list.copy_image_to_slice(&mut back, &b, b.region()).unwrap();
    assert_eq!(back, pattern);
    // A region of a 2-D image into layer 2 of a 2-D array.
    let c = Image::new(&ctx, &dev, &ImageDesc::d2_array(f, 8, 8, 3)).unwrap();
    let mut model = vec![[0u8; 4]; 8 * 8 * 3];
    list.copy_slice_to_image(&c, c.region(), &model).unwrap();
    let from = ImageRegion::new([2, 3, 0], [4, 4, 1]);
    let to = ImageRegion::new([1, 0, 2], [4, 4, 1]);
    list.copy_image_region(&c, to, &a, from).unwrap();
    insert(
        c.extent(),
        &mut model,
        &to,
        &extract(a.extent(), &pattern, &from),
    );
    let mut got = vec![[0u8; 4]; model.len()];
    list.copy_image_to_slice(&mut got, &c, c.region()).unwrap();
    assert_eq!(got, model);
    // Within one image, regions that do not overlap.
    let mut model = pattern.clone();
    let (from, to) = (
        ImageRegion::new([0, 0, 0], [4, 4, 1]),
        ImageRegion::new([4, 4, 0], [4, 4, 1]),
    );
    list.copy_image_region(&a, to, &a, from).unwrap();
    let moved = extract(a.extent(), &model, &from);
    insert(a.extent(), &mut model, &to, &moved);
    list.copy_image_to_slice(&mut got[..64], &a, a.region())
        .unwrap();
    assert_eq!(got[..64], model[..]);
    // On a regular list executed by a queue.
    let d = Image::new(&ctx, &dev, &ImageDesc::d2(f, 8, 8)).unwrap();
    let host = HostBuffer::<[u8; 4]>::new(&ctx, 64).unwrap();
    let mut recorded = CommandList::compute(&ctx, &dev).unwrap();
    recorded.copy_image(&d, &a).unwrap();
    recorded.copy_from_image(&host, &d, d.region()).unwrap();
    recorded.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&recorded]).unwrap();
    queue.synchronize().unwrap();
    assert_eq!(host.to_vec().unwrap(), model);
}

#[test]
fn mismatches_and_bad_regions_are_refused_before_any_driver_call() {
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    // A table whose image copies are missing: a check that let a call through would fail
    // with `MissingFunction` instead of `InvalidArgument`.
    // SAFETY: the CPU driver's getters honour the DDI contract.
    let (mut api, _) = unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    api.zeCommandListAppendImageCopy = None;
    api.zeCommandListAppendImageCopyRegion = None;
    api.zeCommandListAppendImageCopyFromMemory = None;
    api.zeCommandListAppendImageCopyToMemory = None;
    // SAFETY: the remaining pointers are the CPU driver's static functions.
    let rt = unsafe { level_zero::Runtime::from_api(api) }.unwrap();
    let driver = &rt.drivers()[0];
    let dev = driver.devices().unwrap().remove(0);
    let ctx = Context::new(driver).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let f = ImageFormat::Rgba8Uint;
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(f, 8, 4)).unwrap();
    let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 31).unwrap();
    let refused = |r: level_zero::Result<()>, call: &str, words: &[&str]| {
        let e = r.unwrap_err();
        let s = e.to_string();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{s}");
        assert!(s.contains(call), "{s}");
        for w in words {
            assert!(s.contains(w), "`{w}` missing from: {s}");
        }
    };
    // Sizes: 32 texels of 4 bytes = 128 bytes, given 31 x 4.
    refused(
        list.copy_to_image(&img, img.region(), &buf),
        "zeCommandListAppendImageCopyFromMemory",
        &["128 bytes", "124 bytes", "31 elements of 4 bytes"],
    );
    refused(
        list.copy_from_image(&buf, &img, img.region()),
        "zeCommandListAppendImageCopyToMemory",
        &["128 bytes", "124 bytes"],
    );
    let mut small = [0u8; 127];
    refused(
        list.copy_image_to_slice(&mut small, &img, img.region()),
        "zeCommandListAppendImageCopyToMemory",
        &["128 bytes", "127 bytes", "host slice"],
    );
    refused(
        list.copy_slice_to_image(&img, img.region(), &[0u8; 129]),
        "zeCommandListAppendImageCopyFromMemory",
        &["128 bytes", "129 bytes"],
    );
    // Zero-sized elements hold no bytes.
    refused(
        list.copy_slice_to_image(&img, img.region(), &[(); 32]),
        "zeCommandListAppendImageCopyFromMemory",
        &["0 bytes"],
    );
    // Regions outside the image, along each axis, and along an unused one.
    let r = ImageRegion::new([5, 0, 0], [4, 4, 1]);
    refused(
        list.copy_to_image(&img, r, &buf.slice(..16)),
        "zeCommandListAppendImageCopyFromMemory",
        &["reaches 9 along x", "8 texels"],
    );
    let r = ImageRegion::new([0, 1, 0], [1, 4, 1]);
    refused(
        list.copy_from_image(&buf.slice(..4), &img, r),
        "zeCommandListAppendImageCopyToMemory",
        &["reaches 5 along y"],
    );
    let r = ImageRegion::new([0, 0, 0], [8, 4, 0]);
    refused(
        list.copy_from_image(&buf.slice(..0), &img, r),
        "zeCommandListAppendImageCopyToMemory",
        &["along z", "does not use", "origin 0 and extent 1"],
    );
    let r = ImageRegion::new([0, 0, 1], [1, 1, 1]);
    refused(
        list.copy_from_image(&buf.slice(..1), &img, r),
        "zeCommandListAppendImageCopyToMemory",
        &["along z"],
    );
    // Image to image: format, type and extent, overlap.
    let other_format = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::R32Uint, 8, 4)).unwrap();
    refused(
        list.copy_image(&other_format, &img),
        "zeCommandListAppendImageCopy",
        &["Rgba8Uint", "R32Uint", "same format"],
    );
    let other_extent = Image::new(&ctx, &dev, &ImageDesc::d2(f, 4, 8)).unwrap();
    refused(
        list.copy_image(&other_extent, &img),
        "zeCommandListAppendImageCopy",
        &["same type and extent"],
    );
    let array = Image::new(&ctx, &dev, &ImageDesc::d1_array(f, 8, 4)).unwrap();
    refused(
        list.copy_image(&array, &img),
        "zeCommandListAppendImageCopy",
        &["D1Array", "D2"],
    );
    refused(
        list.copy_image(&img, &img),
        "zeCommandListAppendImageCopy",
        &["one image"],
    );
    refused(
        list.copy_image_region(
            &img,
            ImageRegion::new([0, 0, 0], [4, 4, 1]),
            &img,
            ImageRegion::new([3, 0, 0], [4, 4, 1]),
        ),
        "zeCommandListAppendImageCopyRegion",
        &["overlap"],
    );
    refused(
        list.copy_image_region(
            &other_extent,
            ImageRegion::new([0, 0, 0], [4, 4, 1]),
            &img,
            ImageRegion::new([0, 0, 0], [4, 3, 1]),
        ),
        "zeCommandListAppendImageCopyRegion",
        &["differ in extent"],
    );
    // Empty regions copy nothing and call nothing.
    let empty = ImageRegion::new([8, 0, 0], [0, 4, 1]);
    list.copy_from_image(&buf.slice(..0), &img, empty).unwrap();
    list.copy_image_region(
        &other_extent,
        ImageRegion::new([0, 0, 0], [0, 1, 1]),
        &img,
        ImageRegion::new([1, 1, 0], [0, 1, 1]),
    )
    .unwrap();
    // The control: a valid copy does reach the (missing) function.
    let e = list
        .copy_to_image(
            &img,
            ImageRegion::new([0, 0, 0], [8, 1, 1]),
            &buf.slice(..8),
        )
        .unwrap_err();
    assert!(
        matches!(&e, Error::MissingFunction(m) if m.name == "zeCommandListAppendImageCopyFromMemory"),
        "{e}"
    );
    list.synchronize().unwrap();

    // Image creation: zero and oversized extents never reach zeImageCreate.
    // SAFETY: as above.
    let (mut api, _) = unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    api.zeImageCreate = None;
    // SAFETY: as above.
    let rt = unsafe { level_zero::Runtime::from_api(api) }.unwrap();
    let driver = &rt.drivers()[0];
    let dev = driver.devices().unwrap().remove(0);
    let ctx = Context::new(driver).unwrap();
    let limits = dev.image_properties().unwrap();
    for (desc, words) in [
        (ImageDesc::d1(f, 0), "width is 0"),
        (ImageDesc::d2(f, 4, 0), "height is 0"),
        (ImageDesc::d3(f, 4, 4, 0), "depth is 0"),
        (ImageDesc::d1_array(f, 4, 0), "layer count is 0"),
        (ImageDesc::d2_array(f, 4, 4, 0), "layer count is 0"),
        (ImageDesc::d1(f, limits.max_dims_1d + 1), "maxImageDims1D"),
        (ImageDesc::d2(f, 4, u32::MAX), "maxImageDims2D"),
        (
            ImageDesc::d3(f, limits.max_dims_3d + 1, 1, 1),
            "maxImageDims3D",
        ),
        (
            ImageDesc::d2_array(f, 1, 1, limits.max_array_slices + 1),
            "maxImageArraySlices",
        ),
    ] {
        let e = Image::new(&ctx, &dev, &desc).unwrap_err();
        let s = e.to_string();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    call: "zeImageCreate",
                    ..
                }
            ),
            "{s}"
        );
        assert!(s.contains(words), "{desc:?}: {s}");
    }
    let e = Image::new(&ctx, &dev, &ImageDesc::d1(f, 4)).unwrap_err();
    assert!(
        matches!(&e, Error::MissingFunction(m) if m.name == "zeImageCreate"),
        "{e}"
    );
}

#[test]
fn images_of_another_context_or_device_are_refused() {
    let t = TestDriver::new();
    let devs = t.devices();
    let (c1, c2) = (t.context(), t.context());
    let f = ImageFormat::R8Uint;
    let mine = Image::new(&c1, &devs[0], &ImageDesc::d1(f, 4)).unwrap();
    let theirs = Image::new(&c2, &devs[0], &ImageDesc::d1(f, 4)).unwrap();
    let other_device = Image::new(&c1, &devs[1], &ImageDesc::d1(f, 4)).unwrap();
    let mut list = ImmediateCommandList::compute(&c1, &devs[0]).unwrap();
    for (e, what) in [
        (
            list.copy_image(&mine, &theirs).unwrap_err(),
            "another context",
        ),
        (
            list.copy_image(&other_device, &mine).unwrap_err(),
            "another device",
        ),
        (
            list.copy_slice_to_image(&theirs, theirs.region(), &[0u8; 4])
                .unwrap_err(),
            "another context",
        ),
    ] {
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        assert!(e.to_string().contains(what), "{e}");
    }
    // Memory of another context on the other side.
    let buf = DeviceBuffer::<u8>::new(&c2, &devs[0], 4).unwrap();
    let e = list.copy_to_image(&mine, mine.region(), &buf).unwrap_err();
    assert!(e.to_string().contains("another context"), "{e}");
    // A device outside the context.
    let only0 = Context::with_devices(&devs[..1]).unwrap();
    let e = Image::new(&only0, &devs[1], &ImageDesc::d1(f, 4)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
}

#[test]
fn dropping_an_image_while_copies_are_queued_keeps_it_until_they_complete() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    let data = bytes(64 * 64 * 8, 7);
    let src = HostBuffer::from_slice(&ctx, &data).unwrap();
    let dst = HostBuffer::<u8>::new(&ctx, data.len()).unwrap();
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::Rgba16Uint, 64, 64)).unwrap();
    let img2 = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::Rgba16Uint, 64, 64)).unwrap();
    // Everything waits for the gate: certainly pending when the images are dropped.
    list.wait_events(&[&gate]).unwrap();
    list.copy_to_image(&img, img.region(), &src).unwrap();
    list.copy_image(&img2, &img).unwrap();
    list.copy_from_image(&dst, &img2, img2.region()).unwrap();
    let live = t.live();
    assert_eq!(live.images, 2);
    drop((img, img2, src));
    assert_eq!(
        t.live().images,
        2,
        "images of pending commands must not be destroyed"
    );
    std::thread::sleep(Duration::from_millis(20));
    gate.host_signal().unwrap();
    list.synchronize().unwrap();
    assert_eq!(t.live().images, 0, "destroyed once seen complete");
    assert_eq!(dst.to_vec().unwrap(), data);
    assert_clean(&t);
}

#[test]
fn a_queue_keeps_the_images_of_dropped_lists_until_its_work_completes() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_millis(20))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let f = ImageFormat::R32Float;
    let data: Vec<f32> = (0..300).map(|i| i as f32 * 0.25).collect();
    let src = DeviceBuffer::<f32>::new(&ctx, &dev, data.len()).unwrap();
    let mut imm = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    imm.copy_from_slice(&src, &data).unwrap();
    let a = Image::new(&ctx, &dev, &ImageDesc::d3(f, 10, 6, 5)).unwrap();
    let b = Image::new(&ctx, &dev, &ImageDesc::d3(f, 10, 6, 5)).unwrap();
    let out = HostBuffer::<f32>::new(&ctx, data.len()).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.copy_to_image(&a, a.region(), &src).unwrap();
    list.copy_image(&b, &a).unwrap();
    list.copy_from_image(&out, &b, b.region()).unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.execute(&[&list]).unwrap();
    drop((list, a, b, src));
    assert_eq!(t.live().images, 2);
    queue.synchronize().unwrap();
    assert_eq!(t.live().images, 0);
    assert_eq!(out.to_vec().unwrap(), data);
    assert_clean(&t);
}

#[test]
fn commands_of_two_lists_that_use_one_image_run_in_program_order() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut b = ImmediateCommandList::copy_engine(&ctx, &dev).unwrap();
    let pool = EventPool::new(&ctx, 2, EventPoolFlags::HOST_VISIBLE).unwrap();
    let (gate1, gate2) = (pool.event(0).unwrap(), pool.event(1).unwrap());
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::R32Uint, 128, 128)).unwrap();
    let first = DeviceBuffer::<u32>::new(&ctx, &dev, 128 * 128).unwrap();
    let second = DeviceBuffer::<u32>::new(&ctx, &dev, 128 * 128).unwrap();
    a.fill(&first, 1u32).unwrap();
    a.fill(&second, 2u32).unwrap();
    a.synchronize().unwrap();
    // Read after write: list b reads what list a writes, though a waits for a gate.
    let seen = HostBuffer::<u32>::new(&ctx, 128 * 128).unwrap();
    a.wait_events(&[&gate1]).unwrap();
    a.copy_to_image(&img, img.region(), &first).unwrap();
    b.copy_from_image(&seen, &img, img.region()).unwrap();
    assert!(
        !b.synchronize_timeout(Some(Duration::from_millis(30)))
            .unwrap()
    );
    gate1.host_signal().unwrap();
    b.synchronize().unwrap();
    assert!(seen.as_slice().unwrap().iter().all(|&x| x == 1));
    // Write after read: list b's write waits for list a's earlier read.
    let before = HostBuffer::<u32>::new(&ctx, 128 * 128).unwrap();
    a.wait_events(&[&gate2]).unwrap();
    a.copy_from_image(&before, &img, img.region()).unwrap();
    b.copy_to_image(&img, img.region(), &second).unwrap();
    gate2.host_signal().unwrap();
    b.synchronize().unwrap();
    a.synchronize().unwrap();
    assert!(before.as_slice().unwrap().iter().all(|&x| x == 1));
    let mut after = vec![0u32; 128 * 128];
    b.copy_image_to_slice(&mut after, &img, img.region())
        .unwrap();
    assert!(after.iter().all(|&x| x == 2));
}

#[test]
fn image_properties_are_queried_before_and_after_creation() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let limits = dev.image_properties().unwrap();
    assert!(limits.supported());
    assert!(
        limits.max_dims_2d >= 1 && limits.max_array_slices >= 1,
        "{limits:?}"
    );
    for f in ImageFormat::ALL {
        let desc = ImageDesc::d2(*f, 4, 4);
        let support = dev.image_format_support(&desc).unwrap();
        assert!(
            support.sampler_filters.contains(SamplerFilters::POINT),
            "{f:?}"
        );
        // The CPU driver filters linearly what is read as floating point.
        let integer = matches!(
            f.channel_type(),
            level_zero::ChannelType::Uint | level_zero::ChannelType::Sint
        );
        assert_eq!(
            support.sampler_filters.contains(SamplerFilters::LINEAR),
            !integer,
            "{f:?}"
        );
    }
    let desc = ImageDesc::d2_array(ImageFormat::Rgba16Float, 6, 5, 3)
        .kernel_write()
        .bias_uncached();
    let img = Image::new(&ctx, &dev, &desc).unwrap();
    assert_eq!(img.desc(), &desc);
    assert_eq!(
        img.desc().flags(),
        ImageFlags::KERNEL_WRITE | ImageFlags::BIAS_UNCACHED
    );
    assert_eq!(img.image_type(), ImageType::D2Array);
    assert_eq!(img.format(), ImageFormat::Rgba16Float);
    assert_eq!(img.extent(), [6, 5, 3]);
    assert_eq!(
        (desc.width(), desc.height(), desc.depth(), desc.layers()),
        (6, 5, 1, 3)
    );
    assert_eq!(img.region(), ImageRegion::new([0; 3], [6, 5, 3]));
    assert_eq!(img.size_bytes(), 6 * 5 * 3 * 8);
    assert_eq!(img.device(), &dev);
    assert_eq!(img.context(), &ctx);
    assert!(!img.as_raw().is_null());
    assert_eq!(
        img.properties().unwrap(),
        dev.image_format_support(&desc).unwrap()
    );
    let mem = img.memory_properties().unwrap();
    assert_eq!((mem.size, mem.row_pitch, mem.slice_pitch), (720, 48, 240));
    let other = Image::new(&ctx, &dev, &ImageDesc::d1(ImageFormat::R8Uint, 1)).unwrap();
    assert_ne!(img.allocation_id().unwrap(), other.allocation_id().unwrap());
    // Extensions the driver does not advertise are not called.
    let Some(hidden) = TestDriver::with(|c| {
        c.hidden_extensions = vec![
            "ZE_extension_image_query_alloc_properties".into(),
            "ZE_experimental_image_memory_properties".into(),
        ]
    }) else {
        return;
    };
    let ctx = hidden.context();
    let img = Image::new(
        &ctx,
        &hidden.device(),
        &ImageDesc::d1(ImageFormat::R8Uint, 4),
    )
    .unwrap();
    assert!(matches!(
        img.allocation_id(),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        img.memory_properties(),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn samplers_are_checked_and_kept_alive_by_kernel_arguments() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let modes = [
        AddressMode::None,
        AddressMode::Repeat,
        AddressMode::Clamp,
        AddressMode::ClampToBorder,
        AddressMode::Mirror,
    ];
    let mut made = Vec::new();
    for address in modes {
        for filter in [FilterMode::Nearest, FilterMode::Linear] {
            for normalized in [false, true] {
                let desc = SamplerDesc {
                    address,
                    filter,
                    normalized,
                };
                let r = Sampler::new(&ctx, &dev, &desc);
                if matches!(address, AddressMode::Repeat | AddressMode::Mirror) && !normalized {
                    let e = r.unwrap_err();
                    assert!(
                        matches!(
                            e,
                            Error::InvalidArgument {
                                call: "zeSamplerCreate",
                                ..
                            }
                        ),
                        "{e}"
                    );
                } else {
                    let s = r.unwrap();
                    assert_eq!(s.desc(), &desc);
                    assert_eq!(s.device(), &dev);
                    made.push(s);
                }
            }
        }
    }
    assert_eq!(t.live().samplers, made.len() as u64);
    assert_eq!(SamplerDesc::default().address, AddressMode::Clamp);
    drop(made);
    assert_eq!(t.live().samplers, 0);
    // A kernel argument keeps its sampler alive; replacing the argument releases it.
    let module =
        Module::from_spirv(&ctx, &dev, &spv("empty_args", "O2"), &BuildOptions::new()).unwrap();
    let mut k = Kernel::new(&module, "empty_args").unwrap();
    let s = Sampler::new(&ctx, &dev, &SamplerDesc::default()).unwrap();
    k.set_arg_sampler(0, &s).unwrap();
    drop(s);
    assert_eq!(t.live().samplers, 1, "held by the kernel's argument");
    let buf = DeviceBuffer::<f32>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &buf).unwrap();
    assert_eq!(t.live().samplers, 0);
    // Checked before any call: index, context, device.
    let s = Sampler::new(&ctx, &dev, &SamplerDesc::default()).unwrap();
    let e = k.set_arg_sampler(2, &s).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    let other_ctx = t.context();
    let theirs = Sampler::new(&other_ctx, &dev, &SamplerDesc::default()).unwrap();
    let e = k.set_arg_sampler(0, &theirs).unwrap_err();
    assert!(e.to_string().contains("another context"), "{e}");
    let other_dev = Sampler::new(&ctx, &t.devices()[1], &SamplerDesc::default()).unwrap();
    let e = k.set_arg_sampler(0, &other_dev).unwrap_err();
    assert!(e.to_string().contains("another device"), "{e}");
}

#[test]
fn kernel_image_arguments_are_checked_and_keep_the_image_alive() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let module =
        Module::from_spirv(&ctx, &dev, &spv("empty_args", "O2"), &BuildOptions::new()).unwrap();
    let mut k = Kernel::new(&module, "empty_args").unwrap();
    let f = ImageFormat::R32Float;
    // Argument 0 takes 8 bytes (a pointer), as an image handle is: the driver accepts it.
    // The kernel is never launched with it.
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(f, 4, 4)).unwrap();
    k.set_arg_image(0, &img).unwrap();
    drop(img);
    assert_eq!(t.live().images, 1, "held by the kernel's argument");
    let buf = DeviceBuffer::<f32>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &buf).unwrap();
    assert_eq!(t.live().images, 0, "released with the argument");
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(f, 4, 4)).unwrap();
    let e = k.set_arg_image(2, &img).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    let other_ctx = t.context();
    let theirs = Image::new(&other_ctx, &dev, &ImageDesc::d2(f, 4, 4)).unwrap();
    let e = k.set_arg_image(0, &theirs).unwrap_err();
    assert!(e.to_string().contains("another context"), "{e}");
    let other_dev = Image::new(&ctx, &t.devices()[1], &ImageDesc::d2(f, 4, 4)).unwrap();
    let e = k.set_arg_image(0, &other_dev).unwrap_err();
    assert!(e.to_string().contains("another device"), "{e}");
    // Dropping the kernel releases the image too.
    drop((theirs, other_dev));
    k.set_arg_image(0, &img).unwrap();
    drop((img, k));
    assert_eq!(t.live().images, 0);
}

/// Kernels that read, write and sample images (OpenCL C in the comments).
const IMAGE_KERNELS: &str = r#"
; kernel void image_add_one(read_only image2d_t src, write_only image2d_t dst) {
;     int2 c = (int2)(get_global_id(0), get_global_id(1));
;     write_imageui(dst, c, read_imageui(src, c) + 1);
; }
; kernel void image_sample(read_only image2d_t img, sampler_t s, global float4 *out, uint width) {
;     size_t x = get_global_id(0), y = get_global_id(1);
;     out[y * width + x] = read_imagef(img, s, (float2)(x + 0.5f, y + 0.5f));
; }
               OpCapability Addresses
               OpCapability Kernel
               OpCapability Int64
               OpCapability ImageBasic
               OpMemoryModel Physical64 OpenCL
               OpEntryPoint Kernel %add_one "image_add_one" %gid
               OpEntryPoint Kernel %sample "image_sample" %gid
               OpDecorate %gid BuiltIn GlobalInvocationId
               OpDecorate %gid Constant
       %void = OpTypeVoid
       %uint = OpTypeInt 32 0
      %ulong = OpTypeInt 64 0
      %float = OpTypeFloat 32
    %v3ulong = OpTypeVector %ulong 3
     %v2uint = OpTypeVector %uint 2
     %v4uint = OpTypeVector %uint 4
    %v2float = OpTypeVector %float 2
    %v4float = OpTypeVector %float 4
  %ptr_in_v3 = OpTypePointer Input %v3ulong
%ptr_glob_v4f = OpTypePointer CrossWorkgroup %v4float
     %img_ro = OpTypeImage %void 2D 0 0 0 0 Unknown ReadOnly
     %img_wo = OpTypeImage %void 2D 0 0 0 0 Unknown WriteOnly
    %sampler = OpTypeSampler
    %sampled = OpTypeSampledImage %img_ro
     %uint_1 = OpConstant %uint 1
    %float_0 = OpConstant %float 0
 %float_half = OpConstant %float 0.5
       %ones = OpConstantComposite %v4uint %uint_1 %uint_1 %uint_1 %uint_1
        %gid = OpVariable %ptr_in_v3 Input
     %fn_add = OpTypeFunction %void %img_ro %img_wo
  %fn_sample = OpTypeFunction %void %img_ro %sampler %ptr_glob_v4f %uint
    %add_one = OpFunction %void None %fn_add
        %src = OpFunctionParameter %img_ro
        %dst = OpFunctionParameter %img_wo
         %e1 = OpLabel
         %g1 = OpLoad %v3ulong %gid Aligned 32
        %x64 = OpCompositeExtract %ulong %g1 0
        %y64 = OpCompositeExtract %ulong %g1 1
          %x = OpUConvert %uint %x64
          %y = OpUConvert %uint %y64
      %coord = OpCompositeConstruct %v2uint %x %y
      %texel = OpImageRead %v4uint %src %coord
        %inc = OpIAdd %v4uint %texel %ones
               OpImageWrite %dst %coord %inc
               OpReturn
               OpFunctionEnd
     %sample = OpFunction %void None %fn_sample
        %img = OpFunctionParameter %img_ro
          %s = OpFunctionParameter %sampler
        %out = OpFunctionParameter %ptr_glob_v4f
      %width = OpFunctionParameter %uint
         %e2 = OpLabel
         %g2 = OpLoad %v3ulong %gid Aligned 32
         %sx = OpCompositeExtract %ulong %g2 0
         %sy = OpCompositeExtract %ulong %g2 1
        %w64 = OpUConvert %ulong %width
        %row = OpIMul %ulong %sy %w64
        %idx = OpIAdd %ulong %row %sx
         %fx = OpConvertUToF %float %sx
         %fy = OpConvertUToF %float %sy
        %fxh = OpFAdd %float %fx %float_half
        %fyh = OpFAdd %float %fy %float_half
         %fc = OpCompositeConstruct %v2float %fxh %fyh
         %si = OpSampledImage %sampled %img %s
          %v = OpImageSampleExplicitLod %v4float %si %fc Lod %float_0
          %p = OpInBoundsPtrAccessChain %ptr_glob_v4f %out %idx
               OpStore %p %v Aligned 16
               OpReturn
               OpFunctionEnd
"#;

#[test]

fn kernels_read_write_and_sample_images_and_their_launches_keep_them_alive() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let module = Module::from_spirv(
        &ctx,
        &dev,
        &assemble("image_kernels", IMAGE_KERNELS),
        &BuildOptions::new(),
    )
    .unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let (w, h) = (8u32, 4u32);
    let texels: Vec<[u32; 4]> = (0..w * h).map(|i| [i, 2 * i, 3 * i, 4 * i]).collect();
    let src = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::Rgba32Uint, w, h)).unwrap();
    let dst = Image::new(
        &ctx,
        &dev,
        &ImageDesc::d2(ImageFormat::Rgba32Uint, w, h).kernel_write(),
    )
    .unwrap();
    list.copy_slice_to_image(&src, src.region(), &texels)
        .unwrap();
    let mut add = Kernel::new(&module, "image_add_one").unwrap();
    add.set_arg_image(0, &src).unwrap();
    add.set_arg_image(1, &dst).unwrap();
    add.set_group_size([4, 2, 1]).unwrap();
    // A launch waiting for a gate keeps both images alive after every handle is dropped, and
    // a copy of the written image on another list waits for it (the launch is a write).
    let pool = EventPool::new(&ctx, 1, EventPoolFlags::HOST_VISIBLE).unwrap();
    let gate = pool.event(0).unwrap();
    // SAFETY: the kernel touches only its two image arguments, inside their extent.
    unsafe { list.launch_with(&add, [w / 4, h / 2, 1], None, &[&gate]) }.unwrap();
    let mut other = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let seen = HostBuffer::<[u32; 4]>::new(&ctx, (w * h) as usize).unwrap();
    other.copy_from_image(&seen, &dst, dst.region()).unwrap();
    drop((add, src, dst));
    assert_eq!(t.live().images, 2);
    assert!(
        !other
            .synchronize_timeout(Some(Duration::from_millis(30)))
            .unwrap()
    );
    gate.host_signal().unwrap();
    other.synchronize().unwrap();
    list.synchronize().unwrap();
    assert_eq!(t.live().images, 0);
    let expected: Vec<[u32; 4]> = texels.iter().map(|t| t.map(|c| c + 1)).collect();
    assert_eq!(seen.to_vec().unwrap(), expected);

    // Sampling with a nearest, clamped, unnormalised sampler reads the texels back.
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::R32Float, w, h)).unwrap();
    let values: Vec<f32> = (0..w * h).map(|i| i as f32 * 1.5).collect();
    list.copy_slice_to_image(&img, img.region(), &values)
        .unwrap();
    let sampler = Sampler::new(&ctx, &dev, &SamplerDesc::default()).unwrap();
    let out = HostBuffer::<[f32; 4]>::new(&ctx, (w * h) as usize).unwrap();
    let mut sample = Kernel::new(&module, "image_sample").unwrap();
    sample.set_arg_image(0, &img).unwrap();
    sample.set_arg_sampler(1, &sampler).unwrap();
    sample.set_arg_buffer(2, &out).unwrap();
    sample.set_arg(3, &w).unwrap();
    sample.set_group_size([4, 2, 1]).unwrap();
    drop(sampler);
    // SAFETY: the kernel writes element y * w + x of `out` (w * h elements) for x < w, y < h.
    unsafe { list.launch(&sample, [w / 4, h / 2, 1]) }.unwrap();
    list.synchronize().unwrap();
    let got: Vec<f32> = out.to_vec().unwrap().iter().map(|v| v[0]).collect();
    assert_eq!(got, values);
    assert!(
        out.to_vec()
            .unwrap()
            .iter()
            .all(|v| v[1] == 0.0 && v[3] == 1.0)
    );
}
