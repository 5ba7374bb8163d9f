//! Red-team round on images and samplers: attacks written as a hostile user would write them,
//! with safe code only (kernel launches are `unsafe` by design; each keeps the launch
//! contract), against the rules of `docs/SOUNDNESS.md` as images extend them — keep-alive of
//! what in-flight commands use (rule 1), drops that never free what the device may use
//! (rule 10), host guards (rule 4), ordering across lists (rule 9), borrowed slices (rule 3)
//! and checks before any call (rule 11). Every test ends with its `TestDriver`'s leak check
//! (images and samplers are counted by the CPU driver), and the sanitizer report (commands
//! that found an image destroyed before they ran) must stay clean.
//!
//! Launches with an image or sampler argument use `empty_args(global float *p, uint n)`,
//! whose pointer argument takes 8 bytes as a handle does, with `n = 0`: the kernel then
//! touches nothing, so the launch is sound, and what it shows is the safe layer's
//! bookkeeping (keep-alive, ordering) — the engine cannot run image kernels yet.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{TestDriver, spv};
use level_zero::{
    BuildOptions, CommandList, CommandQueue, Context, DeviceBuffer, Error, Event, EventPool,
    EventPoolFlags, HostBuffer, Image, ImageDesc, ImageFormat, ImageRegion, ImmediateCommandList,
    Kernel, Module, Sampler, SamplerDesc, deliberate_leaks,
};

fn gate(ctx: &Context) -> Event {
    EventPool::new(ctx, 1, EventPoolFlags::HOST_VISIBLE)
        .unwrap()
        .event(0)
        .unwrap()
}

fn assert_clean(t: &TestDriver) {
    let report = level_zero::cpu::sanitizer_report(&t.driver).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

/// `empty_args` with `n = 0`: a launch that touches no memory whatever argument 0 holds.
fn inert_kernel(ctx: &Context, dev: &level_zero::Device) -> Kernel {
    let m = Module::from_spirv(ctx, dev, &spv("empty_args", "O2"), &BuildOptions::new()).unwrap();
    let mut k = Kernel::new(&m, "empty_args").unwrap();
    k.set_arg(1, &0u32).unwrap();
    k.set_group_size([1, 1, 1]).unwrap();
    k
}

/// Every command that uses an image, each waiting for a gate, with the image (and
/// everything else) dropped before the gate opens: nothing is destroyed early, everything is
/// destroyed once the list has seen the work complete, no command found its image gone.
#[test]
fn an_image_dropped_under_every_kind_of_pending_use_lives_until_seen_complete() {
    let t = TestDriver::new();
    // Images other tests leaked on purpose (a shared driver instance on the system backend).
    let images0 = t.live().images;
    let (ctx, dev) = (t.context(), t.device());
    let f = ImageFormat::Rg16Uint;
    type Use = fn(&mut ImmediateCommandList, &Image, &Image, &DeviceBuffer<u32>, &mut Kernel);
    let uses: [(&str, Use); 6] = [
        ("copy_to_image", |l, a, _, b, _| {
            l.copy_to_image(a, a.region(), b).unwrap()
        }),
        ("copy_from_image", |l, a, _, b, _| {
            l.copy_from_image(b, a, a.region()).unwrap()
        }),
        ("copy_image source", |l, a, o, _, _| {
            l.copy_image(o, a).unwrap()
        }),
        ("copy_image destination", |l, a, o, _, _| {
            l.copy_image(a, o).unwrap()
        }),
        ("copy_image_region", |l, a, _, _, _| {
            l.copy_image_region(
                a,
                ImageRegion::new([0, 0, 0], [2, 2, 1]),
                a,
                ImageRegion::new([2, 2, 0], [2, 2, 1]),
            )
            .unwrap()
        }),
        ("launch", |l, a, _, _, k| {
            k.set_arg_image(0, a).unwrap();
            // SAFETY: `empty_args` with n = 0 touches no memory.
            unsafe { l.launch(k, [1, 1, 1]) }.unwrap();
        }),
    ];
    for (name, use_) in uses {
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        let g = gate(&ctx);
        let a = Image::new(&ctx, &dev, &ImageDesc::d2(f, 4, 4)).unwrap();
        let other = Image::new(&ctx, &dev, &ImageDesc::d2(f, 4, 4)).unwrap();
        let buf = DeviceBuffer::<u32>::new(&ctx, &dev, 16).unwrap();
        let mut k = inert_kernel(&ctx, &dev);
        list.wait_events(&[&g]).unwrap();
        use_(&mut list, &a, &other, &buf, &mut k);
        drop((a, other, buf, k));
        let live = t.live();
        assert!(live.images >= 1, "{name}: {live:?}");
        g.host_signal().unwrap();
        list.synchronize().unwrap();
        assert_eq!(t.live().images - images0, 0, "{name}");
        assert_eq!(t.live().kernels, 0, "{name}");
    }
    assert_clean(&t);
}

/// A launch that has an image as argument counts as a write of it: a copy from the image on
/// another list waits for the launch (here, for the gate the launch waits for); a copy of
/// another image it only reads does not.
#[test]
fn a_launch_with_an_image_argument_is_ordered_as_a_write() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let f = ImageFormat::R32Uint;
    let written = Image::new(&ctx, &dev, &ImageDesc::d1(f, 64)).unwrap();
    let free = Image::new(&ctx, &dev, &ImageDesc::d1(f, 64)).unwrap();
    let mut a = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut b = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let g = gate(&ctx);
    let mut k = inert_kernel(&ctx, &dev);
    k.set_arg_image(0, &written).unwrap();
    // SAFETY: `empty_args` with n = 0 touches no memory.
    unsafe { a.launch_with(&k, [1, 1, 1], None, &[&g]) }.unwrap();
    // A later argument change does not affect the launch already issued.
    k.set_arg_image(0, &free).unwrap();
    let out = HostBuffer::<u32>::new(&ctx, 64).unwrap();
    b.copy_from_image(&out, &free, free.region()).unwrap();
    assert!(
        b.synchronize_timeout(Some(Duration::from_secs(10)))
            .unwrap()
    );
    b.copy_from_image(&out, &written, written.region()).unwrap();
    assert!(
        !b.synchronize_timeout(Some(Duration::from_millis(30)))
            .unwrap()
    );
    g.host_signal().unwrap();
    b.synchronize().unwrap();
    a.synchronize().unwrap();
    assert_clean(&t);
}

/// A sampler argument held by a pending launch outlives the sampler, the kernel and the
/// argument's replacement.
#[test]
fn a_sampler_of_a_pending_launch_lives_until_seen_complete() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let g = gate(&ctx);
    let mut k = inert_kernel(&ctx, &dev);
    let s = Sampler::new(&ctx, &dev, &SamplerDesc::default()).unwrap();
    k.set_arg_sampler(0, &s).unwrap();
    // SAFETY: `empty_args` with n = 0 touches no memory.
    unsafe { list.launch_with(&k, [1, 1, 1], None, &[&g]) }.unwrap();
    let buf = DeviceBuffer::<f32>::new(&ctx, &dev, 1).unwrap();
    k.set_arg_buffer(0, &buf).unwrap();
    drop((s, k, buf));
    assert_eq!(t.live().samplers, 1);
    g.host_signal().unwrap();
    list.synchronize().unwrap();
    assert_eq!(t.live().samplers, 0);
}

/// A list whose work never finishes is dropped: the drop gives up after its timeout and
/// leaks the list with the image its copy uses, rather than destroy an image the device may
/// still write. When the work finally runs, it finds the image alive.
#[test]
fn a_drop_that_times_out_leaks_the_image_instead_of_destroying_it() {
    let mut t = TestDriver::new();
    // Images other tests leaked on purpose (a shared driver instance on the system backend).
    let images0 = t.live().images;
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    let g = gate(&ctx);
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::Rgba8Uint, 16, 16)).unwrap();
    let src = HostBuffer::<[u8; 4]>::from_slice(&ctx, &[[9; 4]; 256]).unwrap();
    let leaks = deliberate_leaks();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    list.set_drop_timeout(Duration::from_millis(30));
    list.wait_events(&[&g]).unwrap();
    list.copy_to_image(&img, img.region(), &src).unwrap();
    drop((list, img));
    assert!(deliberate_leaks() > leaks);
    assert_eq!(t.live().images - images0, 1, "leaked, not destroyed");
    g.host_signal().unwrap();
    // Let the leaked copy run, then check it found its image.
    std::thread::sleep(Duration::from_millis(50));
    assert_clean(&t);
}

/// The same through a queue: the queue's drop leaks the execution and its images.
#[test]
fn a_queue_drop_that_times_out_leaks_the_images_of_its_executions() {
    let mut t = TestDriver::new();
    // Images other tests leaked on purpose (a shared driver instance on the system backend).
    let images0 = t.live().images;
    t.allow_deliberate_leaks();
    let (ctx, dev) = (t.context(), t.device());
    let g = gate(&ctx);
    let f = ImageFormat::R16Float;
    let a = Image::new(&ctx, &dev, &ImageDesc::d1_array(f, 32, 4)).unwrap();
    let b = Image::new(&ctx, &dev, &ImageDesc::d1_array(f, 32, 4)).unwrap();
    let mut list = CommandList::compute(&ctx, &dev).unwrap();
    list.wait_events(&[&g]).unwrap();
    list.copy_image(&b, &a).unwrap();
    list.close().unwrap();
    let mut queue = CommandQueue::compute(&ctx, &dev).unwrap();
    queue.set_drop_timeout(Duration::from_millis(30));
    queue.execute(&[&list]).unwrap();
    // The executing list cannot be recorded into (it holds the images).
    assert!(matches!(list.reset(), Err(Error::Busy { .. })));
    let leaks = deliberate_leaks();
    drop((queue, list, a, b));
    assert!(deliberate_leaks() > leaks);
    assert_eq!(t.live().images - images0, 2);
    g.host_signal().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_clean(&t);
}

/// Sizes off by one in both directions, for every copy with memory on one side: refused,
/// naming both sizes; the exact size with an element type of another size is accepted and
/// byte-exact.
#[test]
fn sizes_off_by_one_are_refused_and_any_element_type_of_the_exact_size_is_accepted() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let img = Image::new(&ctx, &dev, &ImageDesc::d3(ImageFormat::Rgba16Sint, 3, 2, 2)).unwrap();
    let bytes = img.size_bytes();
    assert_eq!(bytes, 96);
    for n in [bytes - 1, bytes + 1, 0, 1] {
        let buf = DeviceBuffer::<u8>::new(&ctx, &dev, n).unwrap();
        for e in [
            list.copy_to_image(&img, img.region(), &buf).unwrap_err(),
            list.copy_from_image(&buf, &img, img.region()).unwrap_err(),
            list.copy_slice_to_image(&img, img.region(), &vec![0u8; n])
                .unwrap_err(),
            list.copy_image_to_slice(&mut vec![0u8; n], &img, img.region())
                .unwrap_err(),
        ] {
            let s = e.to_string();
            assert!(
                s.contains("96 bytes") && s.contains(&format!("{n} bytes")),
                "{s}"
            );
        }
    }
    // 96 bytes as 8 x [u32; 3], as 48 u16, as one [u8; 96]-like [u64; 12].
    let words: Vec<[u32; 3]> = (0..8).map(|i| [i, i + 100, i + 200]).collect();
    list.copy_slice_to_image(&img, img.region(), &words)
        .unwrap();
    let mut halves = vec![0u16; 48];
    list.copy_image_to_slice(&mut halves, &img, img.region())
        .unwrap();
    assert_eq!(
        bytemuck::cast_slice::<u16, u8>(&halves),
        bytemuck::cast_slice::<[u32; 3], u8>(&words)
    );
    let longs = DeviceBuffer::<u64>::new(&ctx, &dev, 12).unwrap();
    list.copy_from_image(&longs, &img, img.region()).unwrap();
    let mut back = [0u64; 12];
    list.copy_to_slice(&mut back, &longs).unwrap();
    assert_eq!(
        bytemuck::cast_slice::<u64, u8>(&back),
        bytemuck::cast_slice::<[u32; 3], u8>(&words)
    );
    // Zero-sized elements: never enough bytes for a texel, always for an empty region.
    let e = list
        .copy_slice_to_image(&img, img.region(), &[(); 96])
        .unwrap_err();
    assert!(e.to_string().contains("0 bytes"), "{e}");
    let empty = ImageRegion::new([0, 0, 0], [0, 2, 2]);
    list.copy_slice_to_image(&img, empty, &[(); 1000]).unwrap();
    list.copy_image_to_slice(&mut [(); 7], &img, empty).unwrap();
    // A slice of a buffer counts its own elements, not the buffer's.
    let big = DeviceBuffer::<u8>::new(&ctx, &dev, 200).unwrap();
    let e = list
        .copy_to_image(&img, img.region(), &big.slice(10..105))
        .unwrap_err();
    assert!(e.to_string().contains("95 bytes"), "{e}");
    list.copy_to_image(&img, img.region(), &big.slice(10..106))
        .unwrap();
    list.synchronize().unwrap();
}

/// Images of zero texels, and regions that are empty or reach past the image along any
/// coordinate — with origins and extents chosen so that `u32` arithmetic would wrap into a
/// region that looks inside — are refused before any call; empty regions inside the image
/// copy nothing.
#[test]
fn zero_sizes_and_huge_extents_never_wrap_into_a_valid_looking_copy() {
    let t = TestDriver::new();
    // Images other tests leaked on purpose (a shared driver instance on the system backend).
    let images0 = t.live().images;
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let f = ImageFormat::R8Uint;
    for desc in [
        ImageDesc::d1(f, 0),
        ImageDesc::d1_array(f, 1, 0),
        ImageDesc::d2(f, 0, 0),
        ImageDesc::d2_array(f, 1, 1, 0),
        ImageDesc::d3(f, 1, 0, 1),
        ImageDesc::d1(f, u32::MAX),
        ImageDesc::d2(f, u32::MAX, u32::MAX),
        ImageDesc::d3(f, u32::MAX, u32::MAX, u32::MAX),
        ImageDesc::d2_array(f, 1, 1, u32::MAX),
    ] {
        let e = Image::new(&ctx, &dev, &desc).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{desc:?}: {e}");
    }
    assert_eq!(t.live().images - images0, 0);
    let img = Image::new(&ctx, &dev, &ImageDesc::d3(f, 4, 4, 4)).unwrap();
    let buf = DeviceBuffer::<u8>::new(&ctx, &dev, 64).unwrap();
    for r in [
        // origin + extent wraps to 1 in u32.
        ImageRegion::new([u32::MAX, 0, 0], [2, 1, 1]),
        ImageRegion::new([0, u32::MAX, 0], [1, 2, 1]),
        ImageRegion::new([0, 0, u32::MAX], [1, 1, 2]),
        // extent products that wrap: 2^32 x 2^32 x ... in u32/u64.
        ImageRegion::new([0, 0, 0], [u32::MAX, u32::MAX, u32::MAX]),
        ImageRegion::new([1, 1, 1], [u32::MAX, 1, 1]),
        // empty, but outside.
        ImageRegion::new([5, 0, 0], [0, 1, 1]),
        ImageRegion::new([u32::MAX, u32::MAX, u32::MAX], [0, 0, 0]),
    ] {
        for e in [
            list.copy_to_image(&img, r, &buf.slice(..1)).unwrap_err(),
            list.copy_from_image(&buf.slice(..1), &img, r).unwrap_err(),
            list.copy_image_region(&img, r, &img, r).unwrap_err(),
            list.copy_slice_to_image(&img, r, &[0u8; 64]).unwrap_err(),
        ] {
            assert!(matches!(e, Error::InvalidArgument { .. }), "{r}: {e}");
            assert!(e.to_string().contains("reaches"), "{r}: {e}");
        }
    }
    // Unused coordinates of a 1-D image: neither 0 (the specification's shorthand for 1
    // elsewhere) nor 2 is taken.
    let row = Image::new(&ctx, &dev, &ImageDesc::d1(f, 8)).unwrap();
    for r in [
        ImageRegion::new([0, 0, 0], [8, 0, 1]),
        ImageRegion::new([0, 0, 0], [8, 1, 0]),
        ImageRegion::new([0, 0, 0], [4, 2, 1]),
        ImageRegion::new([0, 1, 0], [4, 1, 1]),
    ] {
        let e = list.copy_from_image(&buf.slice(..4), &row, r).unwrap_err();
        assert!(e.to_string().contains("does not use"), "{r}: {e}");
    }
    // Empty regions inside the image: nothing copied, nothing refused.
    for r in [
        ImageRegion::new([4, 0, 0], [0, 4, 4]),
        ImageRegion::new([0, 4, 0], [4, 0, 4]),
        ImageRegion::new([0, 0, 4], [4, 4, 0]),
    ] {
        list.copy_to_image(&img, r, &buf.slice(..0)).unwrap();
        list.copy_image_region(&img, r, &img, r).unwrap();
    }
    list.synchronize().unwrap();
}

/// Host guards against image copies: a copy from an image into a host buffer the host is
/// reading is refused, and the host may not read the buffer while the copy may still write
/// it; a copy into an image from a host buffer the host only reads is fine.
#[test]
fn host_guards_and_image_copies_exclude_each_other() {
    let t = TestDriver::new();
    let (ctx, dev) = (t.context(), t.device());
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::R32Uint, 8, 8)).unwrap();
    let mut host = HostBuffer::<u32>::from_slice(&ctx, &[5; 64]).unwrap();
    {
        let guard = host.as_slice().unwrap();
        let e = list.copy_from_image(&host, &img, img.region()).unwrap_err();
        assert!(matches!(e, Error::Busy { .. }), "{e}");
        list.copy_to_image(&img, img.region(), &host).unwrap();
        assert_eq!(guard[0], 5);
    }
    let g = gate(&ctx);
    list.wait_events(&[&g]).unwrap();
    list.copy_from_image(&host, &img, img.region()).unwrap();
    assert!(matches!(host.as_slice(), Err(Error::Busy { .. })));
    assert!(matches!(host.as_mut_slice(), Err(Error::Busy { .. })));
    g.host_signal().unwrap();
    list.synchronize().unwrap();
    assert_eq!(host.as_slice().unwrap()[63], 5);
}

/// A device lost while a copy into a borrowed `Vec` is queued: the copy returns the loss
/// only once the device stopped, and the `Vec` can be freed at once; nothing leaks and
/// nothing found its image gone.
#[test]
fn a_device_lost_under_a_slice_copy_never_returns_the_slice_early() {
    let Some(t) = TestDriver::with(|c| {
        c.device_lost_after = Some(1);
        c.command_delay = Some(Duration::from_millis(5));
    }) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let img = Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::Rgba32Float, 64, 64)).unwrap();
    let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
    let mut results = Vec::new();
    for i in 0..4 {
        let mut v = vec![[0f32; 4]; 64 * 64];
        let r = if i % 2 == 0 {
            list.copy_slice_to_image(&img, img.region(), &v)
        } else {
            list.copy_image_to_slice(&mut v, &img, img.region())
        };
        // The Vec is freed (and its memory reused) right away.
        drop(v);
        let _reuse = vec![0xabu8; 64 * 64 * 16];
        results.push(r.map_err(|e| e.is_device_lost()));
    }
    assert!(results.contains(&Err(true)), "{results:?}");
    assert!(
        results.iter().all(|r| matches!(r, Ok(()) | Err(true))),
        "{results:?}"
    );
    drop((list, img));
    assert_clean(&t);
}

/// Writers and readers of one image on several threads, each with its own list: every read
/// sees a whole write (all texels equal), never a mix, because copies of different lists
/// that use one image run in program order. (With hazard tracking off, this test sees torn
/// reads within a few runs.)
#[test]
fn threads_writing_and_reading_one_image_never_see_a_torn_write() {
    let Some(t) = TestDriver::with(|c| c.command_delay = Some(Duration::from_micros(100))) else {
        return;
    };
    let (ctx, dev) = (t.context(), t.device());
    let (w, h) = (512u32, 512u32);
    let n = (w * h) as usize;
    let img = Arc::new(Image::new(&ctx, &dev, &ImageDesc::d2(ImageFormat::R32Uint, w, h)).unwrap());
    {
        let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
        list.copy_slice_to_image(&img, img.region(), &vec![0u32; n])
            .unwrap();
    }
    let start = Arc::new(Barrier::new(4));
    let mut handles = Vec::new();
    for id in 0..4u32 {
        let (ctx, dev, img, start) = (ctx.clone(), dev.clone(), img.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            let mut list = ImmediateCommandList::compute(&ctx, &dev).unwrap();
            let src = DeviceBuffer::<u32>::new(&ctx, &dev, n).unwrap();
            start.wait();
            for round in 0..16u32 {
                if id < 2 {
                    // Writers: a whole image of one value, through device memory, without
                    // waiting.
                    list.fill(&src, id * 1000 + round + 1).unwrap();
                    list.copy_to_image(&img, img.region(), &src).unwrap();
                } else {
                    let mut v = vec![u32::MAX; n];
                    list.copy_image_to_slice(&mut v, &img, img.region())
                        .unwrap();
                    if let Some(i) = v.iter().position(|&x| x != v[0]) {
                        panic!("torn read: texel 0 is {}, texel {i} is {}", v[0], v[i]);
                    }
                }
            }
            list.synchronize().unwrap();
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_clean(&t);
}

fn tiled_driver() -> Option<TestDriver> {
    TestDriver::with(|c| {
        c.devices = 2;
        c.subdevices = 2;
        c.hierarchy = level_zero::cpu::Hierarchy::Composite;
    })
}

/// An image serves its device and that device's sub-devices only (`zeImageCreate`: "the
/// application must only use the image for the device, or its sub-devices, which was
/// provided during creation"): a tile's image on its card's list, and a card's image on
/// another card's list, are refused before any call.
#[test]
fn an_image_of_a_tile_or_of_another_card_is_refused() {
    let Some(t) = tiled_driver() else {
        return;
    };
    let cards = t.devices();
    let ctx = t.context();
    let tiles = cards[0].sub_devices().unwrap();
    let f = ImageFormat::R8Uint;
    let card_image = Image::new(&ctx, &cards[0], &ImageDesc::d1(f, 16)).unwrap();
    let tile_image = Image::new(&ctx, &tiles[0], &ImageDesc::d1(f, 16)).unwrap();
    let mut card_list = ImmediateCommandList::compute(&ctx, &cards[0]).unwrap();
    let mut other_card = ImmediateCommandList::compute(&ctx, &cards[1]).unwrap();
    let e = card_list
        .copy_slice_to_image(&tile_image, tile_image.region(), &[1u8; 16])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    assert!(e.to_string().contains("another device"), "{e}");
    let e = other_card
        .copy_slice_to_image(&card_image, card_image.region(), &[1u8; 16])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    card_list
        .copy_slice_to_image(&card_image, card_image.region(), &[3u8; 16])
        .unwrap();
}

/// The other half of the rule: an image of a card used on its tile's list. The safe layer
/// lets it through, as the specification allows it; the CPU driver refuses it
/// (`ZE_RESULT_ERROR_INVALID_ARGUMENT`: its image commands compare device indices exactly).
#[test]

fn an_image_of_a_card_serves_its_tiles() {
    let Some(t) = tiled_driver() else {
        return;
    };
    let card = t.device();
    let ctx = t.context();
    let tile = card.sub_devices().unwrap().remove(0);
    let img = Image::new(&ctx, &card, &ImageDesc::d1(ImageFormat::R8Uint, 16)).unwrap();
    let mut card_list = ImmediateCommandList::compute(&ctx, &card).unwrap();
    card_list
        .copy_slice_to_image(&img, img.region(), &[3u8; 16])
        .unwrap();
    let mut tile_list = ImmediateCommandList::compute(&ctx, &tile).unwrap();
    let mut back = [0u8; 16];
    tile_list
        .copy_image_to_slice(&mut back, &img, img.region())
        .unwrap();
    assert_eq!(back, [3; 16]);
}
