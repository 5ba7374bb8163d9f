//! Red-team tests of the driver's newer C entry points, called as a hostile or sloppy C client
//! would: out-of-range regions and sizes, lying native binaries, odd link sets, objects
//! destroyed while used, concurrent destroys, malformed topology variables. Every call must
//! answer with the specification's error (or succeed with the right result), never crash,
//! hang, corrupt memory or leak; each test checks the live-object counts at its end.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::{CStr, c_char, c_void};
use std::ptr::{null, null_mut};

use common::*;
use level_zero_sys::*;

use ze_image_format_layout_t as L;
use ze_image_format_type_t as T;
use ze_image_type_t as I;

fn embedded() -> Backend {
    Backend::embedded(&[])
}

fn image_desc(ty: ze_image_type_t, layout: L, extent: [u64; 3], layers: u32) -> ze_image_desc_t {
    use ze_image_format_swizzle_t as S;
    ze_image_desc_t {
        type_: ty,
        format: ze_image_format_t {
            layout,
            type_: T::ZE_IMAGE_FORMAT_TYPE_UINT,
            x: S::ZE_IMAGE_FORMAT_SWIZZLE_R,
            y: S::ZE_IMAGE_FORMAT_SWIZZLE_G,
            z: S::ZE_IMAGE_FORMAT_SWIZZLE_B,
            w: S::ZE_IMAGE_FORMAT_SWIZZLE_A,
        },
        width: extent[0],
        height: extent[1] as u32,
        depth: extent[2] as u32,
        arraylevels: layers,
        ..Default::default()
    }
}

fn try_image(
    b: &Backend,
    c: ze_context_handle_t,
    desc: &ze_image_desc_t,
) -> (ze_result_t, ze_image_handle_t) {
    let mut h = null_mut();
    let r = ze!(b, zeImageCreate(c, b.devices[0], desc, &mut h));
    (r, h)
}

fn image(b: &Backend, c: ze_context_handle_t, desc: &ze_image_desc_t) -> ze_image_handle_t {
    let (r, h) = try_image(b, c, desc);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    h
}

fn region(origin: [u32; 3], extent: [u32; 3]) -> ze_image_region_t {
    ze_image_region_t {
        originX: origin[0],
        originY: origin[1],
        originZ: origin[2],
        width: extent[0],
        height: extent[1],
        depth: extent[2],
    }
}

/// Uploads `data` into the whole image through an immediate list.
fn fill_image(b: &Backend, c: ze_context_handle_t, img: ze_image_handle_t, data: &[u8]) {
    let l = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendImageCopyFromMemory(
            l,
            img,
            data.as_ptr().cast(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    b.finish(c, l);
    ok!(b, zeCommandListDestroy(l));
}

/// Reads the whole image back.
fn read_image(b: &Backend, c: ze_context_handle_t, img: ze_image_handle_t, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let l = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendImageCopyToMemory(
            l,
            out.as_mut_ptr().cast(),
            img,
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    b.finish(c, l);
    ok!(b, zeCommandListDestroy(l));
    out
}

#[test]
fn images_with_huge_or_overflowing_dimensions_are_refused_without_allocating() {
    let b = Backend::embedded(&[("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M")]);
    let c = b.context();
    let before = b.residency(b.devices[0]).allocated_bytes;
    let l4 = L::ZE_IMAGE_FORMAT_LAYOUT_32_32_32_32;
    for (desc, code) in [
        (
            image_desc(I::ZE_IMAGE_TYPE_1D, l4, [u64::MAX, 0, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            image_desc(I::ZE_IMAGE_TYPE_2D, l4, [16384, u32::MAX as u64, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        // Within every per-axis limit, but 2048^3 texels of 16 bytes exceed maxMemAllocSize.
        (
            image_desc(I::ZE_IMAGE_TYPE_3D, l4, [2048, 2048, 2048], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            image_desc(I::ZE_IMAGE_TYPE_2DARRAY, l4, [16384, 16384, 0], u32::MAX),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        (
            image_desc(I::ZE_IMAGE_TYPE_2DARRAY, l4, [16, 16, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            image_desc(I::ZE_IMAGE_TYPE_BUFFER, l4, [u64::MAX, 0, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        ),
        // A buffer image that is not a whole number of texels.
        (
            image_desc(I::ZE_IMAGE_TYPE_BUFFER, l4, [17, 0, 0], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE,
        ),
        (
            image_desc(ze_image_type_t(0x7fff_ffff), l4, [4, 4, 4], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
        ),
        (
            image_desc(I::ZE_IMAGE_TYPE_2D, L(0x7fff_ffff), [4, 4, 4], 0),
            ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION,
        ),
    ] {
        let (r, h) = try_image(&b, c, &desc);
        assert_eq!(r, code, "{:?}", (desc.type_, desc.width, desc.height));
        assert!(h.is_null());
    }
    // Images that exhaust the device's memory one by one fail cleanly and give it back.
    let (mut made, mut last) = (Vec::new(), ze_result_t::ZE_RESULT_SUCCESS);
    // 16 MiB each: maxMemAllocSize, a quarter of the device.
    let big = image_desc(I::ZE_IMAGE_TYPE_2D, l4, [1024, 1024, 0], 0);
    for _ in 0..8 {
        let (r, h) = try_image(&b, c, &big);
        last = r;
        if r != ze_result_t::ZE_RESULT_SUCCESS {
            break;
        }
        made.push(h);
    }
    assert_eq!(last, ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY);
    for h in made {
        ok!(b, zeImageDestroy(h));
    }
    assert_eq!(b.residency(b.devices[0]).allocated_bytes, before);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn image_regions_near_u32_max_are_refused() {
    let b = embedded();
    let c = b.context();
    let l = L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8;
    let img2 = image(&b, c, &image_desc(I::ZE_IMAGE_TYPE_2D, l, [8, 8, 0], 0));
    let arr = image(
        &b,
        c,
        &image_desc(I::ZE_IMAGE_TYPE_2DARRAY, l, [8, 8, 0], 4),
    );
    let arr1 = image(
        &b,
        c,
        &image_desc(I::ZE_IMAGE_TYPE_1DARRAY, l, [8, 0, 0], 3),
    );
    let mut host = vec![0u8; 8 * 8 * 4 * 4];
    let list = b.list(c, 0);
    let m = u32::MAX;
    for (img, r) in [
        (img2, region([m, 0, 0], [1, 1, 1])),
        (img2, region([0, m, 0], [1, 1, 1])),
        (img2, region([0, 0, m], [1, 1, 1])),
        (img2, region([1, 0, 0], [m, 1, 1])),
        (img2, region([0, 1, 0], [1, m, 1])),
        (img2, region([m, m, m], [m, m, m])),
        (img2, region([7, 7, 0], [2, 1, 1])),
        // 2D: z beyond its single slice.
        (img2, region([0, 0, 1], [1, 1, 1])),
        // Array layers out of range (2D array: z; 1D array: y).
        (arr, region([0, 0, 3], [1, 1, 2])),
        (arr, region([0, 0, 4], [1, 1, 1])),
        (arr, region([0, 0, 0], [1, 1, 5])),
        (arr1, region([0, 3, 0], [1, 1, 1])),
        (arr1, region([0, 2, 0], [1, 2, 1])),
        (arr1, region([0, 0, 1], [1, 1, 1])),
    ] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyToMemory(
                list,
                host.as_mut_ptr().cast(),
                img,
                &r,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyFromMemory(
                list,
                img,
                host.as_ptr().cast(),
                &r,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyRegion(list, img, img, &r, &r, NULL_EVENT, 0, NO_WAITS)
        );
    }
    // A pitch of u32::MAX over many rows: the memory end is checked against the table, and
    // a host range that would run into an allocation is refused.
    let dev = b.alloc_device(c, 4096, 0);
    // SAFETY: only an address computation, never dereferenced: 64 bytes before `dev`.
    let before_dev = unsafe { dev.sub(64) };
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendImageCopyToMemoryExt(
            list,
            before_dev.cast(),
            img2,
            &region([0, 0, 0], [8, 8, 1]),
            0,
            0,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeCommandListAppendImageCopyToMemoryExt(
            list,
            dev.cast(),
            img2,
            &region([0, 0, 0], [8, 8, 1]),
            u32::MAX,
            0,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // Pitches smaller than the rows they separate.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopyToMemoryExt(
            list,
            dev.cast(),
            img2,
            &region([0, 0, 0], [8, 8, 1]),
            31,
            0,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopyToMemoryExt(
            list,
            dev.cast(),
            arr,
            &region([0, 0, 0], [8, 8, 2]),
            32,
            255,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // Null regions pointers are the whole image; null memory is refused even for empty regions.
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendImageCopyToMemory(
            list,
            null_mut(),
            img2,
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendImageCopyFromMemory(
            list,
            img2,
            null(),
            &region([0, 0, 0], [0, 0, 0]),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListDestroy(list));
    b.free(c, dev);
    for h in [img2, arr, arr1] {
        ok!(b, zeImageDestroy(h));
    }
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn overlapping_regions_of_one_image_copy_as_if_staged() {
    let b = embedded();
    let c = b.context();
    let l = L::ZE_IMAGE_FORMAT_LAYOUT_32;
    let (w, h) = (16usize, 4usize);
    let img = image(
        &b,
        c,
        &image_desc(I::ZE_IMAGE_TYPE_2D, l, [w as u64, h as u64, 0], 0),
    );
    let data: Vec<u8> = (0..(w * h) as u32).flat_map(|v| v.to_le_bytes()).collect();
    fill_image(&b, c, img, &data);
    // Shift columns 0..12 right by 3 in rows 1..4 (source and destination overlap), and rows
    // 0..3 down by one at the same time (overlap along y too).
    let src = region([0, 0, 0], [12, 3, 1]);
    let dst = region([3, 1, 0], [12, 3, 1]);
    let list = b.immediate(c, 0);
    ok!(
        b,
        zeCommandListAppendImageCopyRegion(list, img, img, &dst, &src, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(c, list);
    ok!(b, zeCommandListDestroy(list));
    let got = read_image(&b, c, img, data.len());
    let texel = |v: &[u8], x: usize, y: usize| {
        u32::from_le_bytes(v[(y * w + x) * 4..][..4].try_into().unwrap())
    };
    for y in 0..h {
        for x in 0..w {
            let expect = if (1..4).contains(&y) && (3..15).contains(&x) {
                texel(&data, x - 3, y - 1)
            } else {
                texel(&data, x, y)
            };
            assert_eq!(texel(&got, x, y), expect, "texel ({x}, {y})");
        }
    }
    ok!(b, zeImageDestroy(img));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn image_copies_between_formats_contexts_and_devices_are_refused() {
    let b = embedded();
    let (c, c2) = (b.context(), b.context());
    let a = image(
        &b,
        c,
        &image_desc(
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_32,
            [4, 4, 0],
            0,
        ),
    );
    let other_layout = image(
        &b,
        c,
        &image_desc(
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
            [4, 4, 0],
            0,
        ),
    );
    let mut float = image_desc(
        I::ZE_IMAGE_TYPE_2D,
        L::ZE_IMAGE_FORMAT_LAYOUT_32,
        [4, 4, 0],
        0,
    );
    float.format.type_ = T::ZE_IMAGE_FORMAT_TYPE_FLOAT;
    let other_type = image(&b, c, &float);
    let in_c2 = image(
        &b,
        c2,
        &image_desc(
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_32,
            [4, 4, 0],
            0,
        ),
    );
    let list = b.list(c, 0);
    for other in [other_layout, other_type, in_c2] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopy(list, a, other, NULL_EVENT, 0, NO_WAITS)
        );
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopy(list, other, a, NULL_EVENT, 0, NO_WAITS)
        );
    }
    // A list of the other device.
    let list1 = b.list(c, 1);
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopy(list1, a, a, NULL_EVENT, 0, NO_WAITS)
    );
    // Regions of different sizes.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendImageCopyRegion(
            list,
            a,
            a,
            &region([0, 0, 0], [2, 2, 1]),
            &region([0, 0, 0], [2, 1, 1]),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // Wrong handle types where an image is expected.
    if b.direct_handles() {
        fails!(
            ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
            b,
            zeCommandListAppendImageCopy(list, null_mut(), a, NULL_EVENT, 0, NO_WAITS)
        );
        let r = ze!(
            b,
            zeCommandListAppendImageCopy(list, list.cast(), a, NULL_EVENT, 0, NO_WAITS)
        );
        assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
    }
    ok!(b, zeCommandListDestroy(list));
    ok!(b, zeCommandListDestroy(list1));
    for h in [a, other_layout, other_type, in_c2] {
        ok!(b, zeImageDestroy(h));
    }
    ok!(b, zeContextDestroy(c));
    ok!(b, zeContextDestroy(c2));
    b.assert_no_leaks();
}

#[test]
fn chained_structures_on_image_and_sampler_descriptors_are_refused_without_leaks() {
    let b = embedded();
    let c = b.context();
    // A chain of two structures; the driver must name the first and read no further.
    let second = ze_image_bindless_exp_desc_t::default();
    let first = ze_image_pitched_exp_desc_t {
        pNext: (&raw const second).cast(),
        ..Default::default()
    };
    let mut desc = image_desc(
        I::ZE_IMAGE_TYPE_2D,
        L::ZE_IMAGE_FORMAT_LAYOUT_32,
        [4, 4, 0],
        0,
    );
    desc.pNext = (&raw const first).cast();
    let (r, h) = try_image(&b, c, &desc);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_FEATURE);
    assert!(h.is_null());
    let sdesc = ze_sampler_desc_t {
        pNext: (&raw const first).cast(),
        ..Default::default()
    };
    let mut s = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeSamplerCreate(c, b.devices[0], &sdesc, &mut s)
    );
    // Out-of-range sampler enumerations.
    for (mode, filter) in [(0x7fff_ffffu32, 0u32), (0, 0x7fff_ffff)] {
        let sdesc = ze_sampler_desc_t {
            addressMode: ze_sampler_address_mode_t(mode),
            filterMode: ze_sampler_filter_mode_t(filter),
            ..Default::default()
        };
        fails!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            b,
            zeSamplerCreate(c, b.devices[0], &sdesc, &mut s)
        );
    }
    assert_eq!(b.live().images, 0);
    assert_eq!(b.live().samplers, 0);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// Objects created in a context keep it from being destroyed
/// (`ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE`), images and samplers as the others.
#[test]
fn a_context_with_live_images_or_samplers_is_in_use() {
    let b = embedded();
    let c = b.context();
    let img = image(
        &b,
        c,
        &image_desc(
            I::ZE_IMAGE_TYPE_2D,
            L::ZE_IMAGE_FORMAT_LAYOUT_32,
            [4, 4, 0],
            0,
        ),
    );
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    ok!(b, zeImageDestroy(img));
    let mut s = null_mut();
    ok!(
        b,
        zeSamplerCreate(c, b.devices[0], &ze_sampler_desc_t::default(), &mut s)
    );
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    ok!(b, zeSamplerDestroy(s));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn an_image_destroyed_while_its_copies_wait_or_run_never_crashes() {
    let b = embedded();
    let c = b.context();
    let l = L::ZE_IMAGE_FORMAT_LAYOUT_32_32_32_32;
    let desc = image_desc(I::ZE_IMAGE_TYPE_2D, l, [512, 512, 0], 0);
    let size = 512 * 512 * 16;
    let host = vec![7u8; size];
    for round in 0..20 {
        let img = image(&b, c, &desc);
        let pool = b.event_pool(c, 1, 0);
        let gate = b.event(pool, 0);
        let imm = b.immediate(c, 0);
        let mut waits = [gate];
        // Waiting copies: to and from the image, and image to itself.
        ok!(
            b,
            zeCommandListAppendImageCopyFromMemory(
                imm,
                img,
                host.as_ptr().cast(),
                null(),
                NULL_EVENT,
                if round % 2 == 0 { 1 } else { 0 },
                waits.as_mut_ptr()
            )
        );
        ok!(
            b,
            zeCommandListAppendImageCopy(imm, img, img, NULL_EVENT, 0, NO_WAITS)
        );
        if round % 3 == 0 {
            std::thread::yield_now();
        }
        ok!(b, zeImageDestroy(img));
        ok!(b, zeEventHostSignal(gate));
        // Whatever ran before the destroy succeeded; what ran after fails with
        // INVALID_ARGUMENT. Either way the list synchronises.
        let r = ze!(b, zeCommandListHostSynchronize(imm, u64::MAX));
        assert!(
            r == ze_result_t::ZE_RESULT_SUCCESS
                || r == ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "{r:?}"
        );
        ok!(b, zeCommandListDestroy(imm));
        ok!(b, zeEventDestroy(gate));
        ok!(b, zeEventPoolDestroy(pool));
    }
    assert_eq!(b.residency(b.devices[0]).allocated_bytes, 0);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn buffer_images_and_one_dimensional_regions() {
    let b = embedded();
    let c = b.context();
    let img = image(
        &b,
        c,
        &image_desc(
            I::ZE_IMAGE_TYPE_BUFFER,
            L::ZE_IMAGE_FORMAT_LAYOUT_16_16,
            [64, 0, 0],
            0,
        ),
    );
    let mut props = ze_image_memory_properties_exp_t::default();
    ok!(b, zeImageGetMemoryPropertiesExp(img, &mut props));
    assert_eq!(props.size, 64);
    let data = pattern(64, 3);
    fill_image(&b, c, img, &data);
    assert_eq!(read_image(&b, c, img, 64), data);
    // 16 texels of 4 bytes: a region of texel 15 of width 2 is outside; the unused y and z
    // must be 0 or within the single row.
    let list = b.list(c, 0);
    let mut out = [0u8; 64];
    for r in [
        region([15, 0, 0], [2, 0, 0]),
        region([0, 1, 0], [1, 1, 1]),
        region([0, 0, 1], [1, 1, 1]),
        region([0, 0, 0], [17, 1, 1]),
    ] {
        fails!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            b,
            zeCommandListAppendImageCopyToMemory(
                list,
                out.as_mut_ptr().cast(),
                img,
                &r,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
    }
    ok!(b, zeCommandListDestroy(list));
    ok!(b, zeImageDestroy(img));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
