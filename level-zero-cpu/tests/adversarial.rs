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
fn overlapping_regions_of_one_image_are_refused() {
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
    b.upload_image(c, img, &data);
    // The specification: "the src and dst regions cannot be overlapping"
    // (ZE_RESULT_ERROR_OVERLAPPING_REGIONS). Regions sharing one texel (4, 1) overlap;
    // regions side by side do not, and copy.
    let list = b.immediate(c, 0);
    for dst in [region([3, 1, 0], [12, 3, 1]), region([4, 1, 0], [5, 2, 1])] {
        let src = region([0, 0, 0], [dst.width, dst.height, 1]);
        fails!(
            ZE_RESULT_ERROR_OVERLAPPING_REGIONS,
            b,
            zeCommandListAppendImageCopyRegion(list, img, img, &dst, &src, NULL_EVENT, 0, NO_WAITS)
        );
    }
    fails!(
        ZE_RESULT_ERROR_OVERLAPPING_REGIONS,
        b,
        zeCommandListAppendImageCopy(list, img, img, NULL_EVENT, 0, NO_WAITS)
    );
    // Side by side: columns 0..8 to 8..16.
    let (left, right) = (
        region([0, 0, 0], [8, h as u32, 1]),
        region([8, 0, 0], [8, h as u32, 1]),
    );
    ok!(
        b,
        zeCommandListAppendImageCopyRegion(list, img, img, &right, &left, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(c, list);
    ok!(b, zeCommandListDestroy(list));
    let got = b.download_image(c, img, data.len());
    let texel = |v: &[u8], x: usize, y: usize| {
        u32::from_le_bytes(v[(y * w + x) * 4..][..4].try_into().unwrap())
    };
    for y in 0..h {
        for x in 0..w {
            let expect = texel(&data, x % 8, y);
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
        // Waiting copies: to and from the image, and image to image (half to the other
        // half: the regions of a copy within one image must not overlap).
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
        let (top, bottom) = (
            region([0, 0, 0], [512, 256, 1]),
            region([0, 256, 0], [512, 256, 1]),
        );
        ok!(
            b,
            zeCommandListAppendImageCopyRegion(
                imm, img, img, &bottom, &top, NULL_EVENT, 0, NO_WAITS
            )
        );
        fails!(
            ZE_RESULT_ERROR_OVERLAPPING_REGIONS,
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
    b.upload_image(c, img, &data);
    assert_eq!(b.download_image(c, img, 64), data);
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

const OUT_OF_BOUNDS: &[u8] = include_bytes!("../kernels/spv/out_of_bounds.O2.spv");
const MATMUL: &[u8] = include_bytes!("../kernels/spv/matmul.O2.spv");

fn module_desc(format: ze_module_format_t, bytes: &[u8]) -> ze_module_desc_t {
    ze_module_desc_t {
        format,
        inputSize: bytes.len(),
        pInputModule: bytes.as_ptr(),
        ..Default::default()
    }
}

/// `zeModuleCreate`: its result, the module, and the build log's text (the log destroyed).
fn try_module(
    b: &Backend,
    c: ze_context_handle_t,
    format: ze_module_format_t,
    bytes: &[u8],
) -> (ze_result_t, ze_module_handle_t, String) {
    let desc = module_desc(format, bytes);
    let (mut m, mut log) = (null_mut(), null_mut());
    let r = ze!(b, zeModuleCreate(c, b.devices[0], &desc, &mut m, &mut log));
    let mut text = String::new();
    if !log.is_null() {
        let mut size = 0usize;
        ok!(b, zeModuleBuildLogGetString(log, &mut size, null_mut()));
        let mut buf = vec![0 as c_char; size];
        ok!(
            b,
            zeModuleBuildLogGetString(log, &mut size, buf.as_mut_ptr())
        );
        // SAFETY: the driver NUL-terminated the text.
        text = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        ok!(b, zeModuleBuildLogDestroy(log));
    }
    (r, m, text)
}

fn native_of(b: &Backend, m: ze_module_handle_t) -> Vec<u8> {
    let mut size = 0usize;
    ok!(b, zeModuleGetNativeBinary(m, &mut size, null_mut()));
    let mut out = vec![0u8; size];
    ok!(b, zeModuleGetNativeBinary(m, &mut size, out.as_mut_ptr()));
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A native binary laid out as the driver writes them, with a valid checksum over whatever
/// body the test gives.
fn sealed(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend(fnv1a(body).to_le_bytes());
    out
}

/// A specialization constant of a native binary: id, claimed length, bytes.
type Constant<'a> = (u32, u64, &'a [u8]);

/// The body of a native binary: magic, version, flags, constants, SPIR-V; lengths as given.
struct Native<'a> {
    version: u32,
    flags: (u64, &'a [u8]),
    constants: (u64, Vec<Constant<'a>>),
    spirv: (u64, &'a [u8]),
}

impl Native<'_> {
    fn body(&self) -> Vec<u8> {
        let mut out = b"L0CPUNB\0".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend(self.flags.0.to_le_bytes());
        out.extend(self.flags.1);
        out.extend(self.constants.0.to_le_bytes());
        for (id, len, value) in &self.constants.1 {
            out.extend(id.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend(*value);
        }
        out.extend(self.spirv.0.to_le_bytes());
        out.extend(self.spirv.1);
        out
    }
}

fn honest(spirv: &[u8]) -> Native<'_> {
    Native {
        version: 1,
        flags: (0, b""),
        constants: (0, Vec::new()),
        spirv: (spirv.len() as u64, spirv),
    }
}

#[test]
fn lying_native_binaries_are_refused_quickly_without_huge_allocations() {
    let b = embedded();
    let c = b.context();
    let native = ze_module_format_t::ZE_MODULE_FORMAT_NATIVE;
    // The layout the test assumes is the driver's: an honest binary builds.
    let (r, m, _) = try_module(&b, c, native, &sealed(&honest(OUT_OF_BOUNDS).body()));
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(native_of(&b, m), sealed(&honest(OUT_OF_BOUNDS).body()));
    ok!(b, zeModuleDestroy(m));
    let huge = [u64::MAX, 1 << 62, 1 << 40, u64::from(u32::MAX) + 1];
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for n in huge {
        let mut x = honest(OUT_OF_BOUNDS);
        x.flags.0 = n;
        cases.push((format!("flags length {n}"), sealed(&x.body())));
        let mut x = honest(OUT_OF_BOUNDS);
        x.constants.0 = n;
        cases.push((format!("constant count {n}"), sealed(&x.body())));
        let mut x = honest(OUT_OF_BOUNDS);
        x.constants = (1, vec![(3, n, b"abcd")]);
        cases.push((format!("constant length {n}"), sealed(&x.body())));
        let mut x = honest(OUT_OF_BOUNDS);
        x.spirv.0 = n;
        cases.push((format!("SPIR-V length {n}"), sealed(&x.body())));
    }
    for v in [0, 2, u32::MAX, 1 << 24] {
        let mut x = honest(OUT_OF_BOUNDS);
        x.version = v;
        cases.push((format!("version {v}"), sealed(&x.body())));
    }
    let mut x = honest(OUT_OF_BOUNDS);
    x.flags = (2, &[0xff, 0xfe]);
    cases.push(("flags not UTF-8".into(), sealed(&x.body())));
    let mut trailing = honest(OUT_OF_BOUNDS).body();
    trailing.push(0);
    cases.push(("trailing byte".into(), sealed(&trailing)));
    let mut magic = honest(OUT_OF_BOUNDS).body();
    magic[7] = b'X';
    cases.push(("magic".into(), sealed(&magic)));
    // Lengths one short and one long of the truth.
    let mut x = honest(OUT_OF_BOUNDS);
    x.spirv.0 -= 1;
    cases.push(("SPIR-V length short".into(), sealed(&x.body())));
    let mut x = honest(OUT_OF_BOUNDS);
    x.spirv.0 += 1;
    cases.push(("SPIR-V length long".into(), sealed(&x.body())));
    // Only a header, and less.
    for n in [1, 8, 12, 19, 20, 27, 28] {
        let body = honest(OUT_OF_BOUNDS).body();
        cases.push((format!("{n}-byte prefix"), body[..n].to_vec()));
        cases.push((format!("{n}-byte sealed prefix"), sealed(&body[..n])));
    }
    for (what, bytes) in &cases {
        let t = std::time::Instant::now();
        let (r, m, log) = try_module(&b, c, native, bytes);
        assert_eq!(
            r,
            ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
            "{what}: {log}"
        );
        assert!(m.is_null(), "{what}");
        assert!(log.contains("native"), "{what}: {log}");
        assert!(t.elapsed().as_secs() < 2, "{what} took {:?}", t.elapsed());
    }
    // Checksum-valid binaries whose content the engine refuses: a build failure with a log,
    // never a crash. Build flags and constants come from the binary, not the descriptor.
    let garbage = [0x07u8, 0x23, 0x02, 0x03, 1, 2, 3, 4];
    for (what, x) in [
        ("garbage SPIR-V", honest(&garbage)),
        ("empty SPIR-V", honest(b"")),
        (
            "a constant of an undeclared id",
            Native {
                constants: (1, vec![(77, 3, b"abc")]),
                ..honest(OUT_OF_BOUNDS)
            },
        ),
        (
            "odd flags",
            Native {
                flags: (9, b"-cl-fast\0"),
                ..honest(OUT_OF_BOUNDS)
            },
        ),
    ] {
        let (r, m, log) = try_module(&b, c, native, &sealed(&x.body()));
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            ok!(b, zeModuleDestroy(m));
        } else {
            assert!(
                r == ze_result_t::ZE_RESULT_ERROR_MODULE_BUILD_FAILURE
                    || r == ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
                "{what}: {r:?}"
            );
            assert!(m.is_null());
            assert!(!log.is_empty(), "{what}");
        }
    }
    // Size queries and short buffers of zeModuleGetNativeBinary.
    let (_, m, _) = try_module(
        &b,
        c,
        ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        OUT_OF_BOUNDS,
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleGetNativeBinary(m, null_mut(), null_mut())
    );
    let mut buf = [0u8; 4];
    let mut size = 0usize;
    fails!(
        ZE_RESULT_ERROR_INVALID_SIZE,
        b,
        zeModuleGetNativeBinary(m, &mut size, buf.as_mut_ptr())
    );
    assert_eq!(buf, [0; 4], "nothing written into a short buffer");
    ok!(b, zeModuleDestroy(m));
    assert_eq!(b.live().build_logs, 0);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// Flips every bit of the header and a spread of bits elsewhere: each is refused (the
/// checksum catches it), none crashes.
#[test]
fn bit_flipped_native_binaries_are_refused() {
    let b = embedded();
    let c = b.context();
    let (r, m, _) = try_module(&b, c, ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV, MATMUL);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let native = native_of(&b, m);
    ok!(b, zeModuleDestroy(m));
    let bits = native.len() * 8;
    let positions: Vec<usize> = (0..64 * 8).chain((0..bits).step_by(bits / 97)).collect();
    for bit in positions {
        let mut bad = native.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let (r, m, _) = try_module(&b, c, ze_module_format_t::ZE_MODULE_FORMAT_NATIVE, &bad);
        assert_eq!(
            r,
            ze_result_t::ZE_RESULT_ERROR_INVALID_NATIVE_BINARY,
            "bit {bit}"
        );
        assert!(m.is_null());
    }
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

fn module(b: &Backend, c: ze_context_handle_t, spirv: &[u8]) -> ze_module_handle_t {
    let (r, m, log) = try_module(b, c, ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV, spirv);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS, "{log}");
    m
}

fn try_kernel(
    b: &Backend,
    m: ze_module_handle_t,
    name: &CStr,
) -> (ze_result_t, ze_kernel_handle_t) {
    let desc = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    let r = ze!(b, zeKernelCreate(m, &desc, &mut k));
    (r, k)
}

fn kernel(b: &Backend, m: ze_module_handle_t, name: &CStr) -> ze_kernel_handle_t {
    let (r, k) = try_kernel(b, m, name);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS, "{name:?}");
    k
}

fn link(b: &Backend, modules: &[ze_module_handle_t]) -> (ze_result_t, String) {
    let mut mods = modules.to_vec();
    let mut log = null_mut();
    let r = ze!(
        b,
        zeModuleDynamicLink(mods.len() as u32, mods.as_mut_ptr(), &mut log)
    );
    let mut text = String::new();
    if !log.is_null() {
        let mut size = 0usize;
        ok!(b, zeModuleBuildLogGetString(log, &mut size, null_mut()));
        let mut buf = vec![0 as c_char; size];
        ok!(
            b,
            zeModuleBuildLogGetString(log, &mut size, buf.as_mut_ptr())
        );
        // SAFETY: NUL-terminated by the driver.
        text = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        ok!(b, zeModuleBuildLogDestroy(log));
    }
    (r, text)
}

/// Runs `kernel(buf)` over `n` work-items of a 16-wide group on device 0; the result code.
fn run_on_buffer(
    b: &Backend,
    c: ze_context_handle_t,
    k: ze_kernel_handle_t,
    buf: *mut u32,
    n: usize,
) -> ze_result_t {
    ok!(b, zeKernelSetGroupSize(k, 16, 1, 1));
    let arg = buf as u64;
    ok!(
        b,
        zeKernelSetArgumentValue(k, 0, 8, (&raw const arg).cast())
    );
    let counts = ze_group_count_t {
        groupCountX: (n / 16) as u32,
        groupCountY: 1,
        groupCountZ: 1,
    };
    b.run(c, 0, |l| {
        ok!(
            b,
            zeCommandListAppendLaunchKernel(l, k, &counts, NULL_EVENT, 0, NO_WAITS)
        );
    })
}

fn shared_counting(b: &Backend, c: ze_context_handle_t, n: usize) -> *mut u32 {
    let buf = b.alloc_shared(c, n * 4, 0).cast::<u32>();
    for i in 0..n {
        // SAFETY: a shared allocation of n u32s, not in use by the device.
        unsafe { buf.add(i).write(i as u32) };
    }
    buf
}

fn read_u32s(buf: *mut u32, n: usize) -> Vec<u32> {
    // SAFETY: n u32s of a shared allocation, no launch running.
    unsafe { std::slice::from_raw_parts(buf, n) }.to_vec()
}

#[test]
fn dynamic_link_with_odd_module_sets() {
    let b = embedded();
    let c = b.context();
    let (imp_spv, exp_spv) = (assembled("link_imports"), assembled("link_exports"));
    let imp = module(&b, c, &imp_spv);
    let exp = module(&b, c, &exp_spv);
    // Null arrays, empty sets, null and stale handles.
    let mut log = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleDynamicLink(2, null_mut(), &mut log)
    );
    assert!(log.is_null());
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleDynamicLink(2, null_mut(), null_mut())
    );
    let mut none: [ze_module_handle_t; 0] = [];
    let r = ze!(b, zeModuleDynamicLink(0, none.as_mut_ptr(), &mut log));
    assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert!(log.is_null());
    let mut with_null = [exp, null_mut()];
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_HANDLE,
        b,
        zeModuleDynamicLink(2, with_null.as_mut_ptr(), null_mut())
    );
    let stale = module(&b, c, &exp_spv);
    ok!(b, zeModuleDestroy(stale));
    let mut with_stale = [stale, imp];
    let r = ze!(
        b,
        zeModuleDynamicLink(2, with_stale.as_mut_ptr(), null_mut())
    );
    assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // The kernel stays unlinked after those failures.
    assert_eq!(
        try_kernel(&b, imp, c"use_add_one").0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED
    );
    // A kernel created before linking keeps working after it.
    let standalone = kernel(&b, imp, c"standalone");
    // A module listed twice is one module: its exports are not ambiguous with themselves.
    let (r, text) = link(&b, &[exp, imp, imp]);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS, "{text}");
    let (r2, text2) = link(&b, &[exp, exp, imp]);
    assert_eq!(r2, ze_result_t::ZE_RESULT_SUCCESS, "{text2}");
    let (r3, text3) = link(&b, &[imp, exp]);
    assert_eq!(r3, ze_result_t::ZE_RESULT_SUCCESS, "{text3}");
    // Linking again (the same set) is harmless.
    let (r4, text4) = link(&b, &[exp, imp]);
    assert_eq!(r4, ze_result_t::ZE_RESULT_SUCCESS, "{text4}");
    let k = kernel(&b, imp, c"use_add_one");
    let n = 64;
    let buf = shared_counting(&b, c, n);
    assert_eq!(
        run_on_buffer(&b, c, standalone, buf, n),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        read_u32s(buf, n),
        (0..n as u32).map(|i| i * 2).collect::<Vec<_>>()
    );
    // The exporter destroyed: the importer's kernel still runs its function and reads its
    // variable (the driver keeps what the link needs alive).
    ok!(b, zeModuleDestroy(exp));
    assert_eq!(
        run_on_buffer(&b, c, k, buf, n),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        read_u32s(buf, n),
        (0..n as u32).map(|i| i * 2 + 101).collect::<Vec<_>>()
    );
    b.free(c, buf.cast());
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeKernelDestroy(standalone));
    ok!(b, zeModuleDestroy(imp));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn dynamic_link_across_contexts_and_drivers_then_exporter_gone() {
    let b = embedded();
    let other = embedded();
    let (c, c2, c3) = (b.context(), b.context(), other.context());
    let (imp_spv, exp_spv) = (assembled("link_imports"), assembled("link_exports"));
    let n = 32;
    for (exporter_backend, ctx) in [(&b, c2), (&other, c3)] {
        let imp = module(&b, c, &imp_spv);
        let exp = module(exporter_backend, ctx, &exp_spv);
        // Modules of another context, or of another driver instance, link: all memory is
        // host memory. What matters is that the importer keeps working after the exporter
        // (and its driver's objects) are gone.
        let (r, text) = link(&b, &[imp, exp]);
        assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS, "{text}");
        {
            let k = kernel(&b, imp, c"use_add_one");
            ok!(exporter_backend, zeModuleDestroy(exp));
            let buf = shared_counting(&b, c, n);
            assert_eq!(
                run_on_buffer(&b, c, k, buf, n),
                ze_result_t::ZE_RESULT_SUCCESS
            );
            assert_eq!(
                read_u32s(buf, n),
                (0..n as u32).map(|i| i + 101).collect::<Vec<_>>()
            );
            b.free(c, buf.cast());
            ok!(b, zeKernelDestroy(k));
        }
        ok!(b, zeModuleDestroy(imp));
    }
    ok!(b, zeContextDestroy(c));
    ok!(b, zeContextDestroy(c2));
    ok!(other, zeContextDestroy(c3));
    b.assert_no_leaks();
    other.assert_no_leaks();
}

/// Relinking while the importer's kernel runs on another thread: every launch sees a whole
/// link (the right result), never a torn one.
#[test]
fn relinking_while_launching() {
    let b = embedded();
    let c = b.context();
    let (imp_spv, exp_spv) = (assembled("link_imports"), assembled("link_exports"));
    let imp = module(&b, c, &imp_spv);
    let exp = module(&b, c, &exp_spv);
    assert_eq!(link(&b, &[imp, exp]).0, ze_result_t::ZE_RESULT_SUCCESS);
    let k = kernel(&b, imp, c"use_add_one");
    let n = 256;
    let buf = shared_counting(&b, c, n);
    let (imp_u, exp_u, buf_u) = (imp as usize, exp as usize, buf as usize);
    std::thread::scope(|s| {
        let bb = &b;
        s.spawn(move || {
            for _ in 0..20 {
                let r = link(
                    bb,
                    &[imp_u as ze_module_handle_t, exp_u as ze_module_handle_t],
                );
                assert_eq!(r.0, ze_result_t::ZE_RESULT_SUCCESS, "{}", r.1);
            }
        });
        for round in 0..10u32 {
            assert_eq!(
                run_on_buffer(&b, c, k, buf_u as *mut u32, n),
                ze_result_t::ZE_RESULT_SUCCESS
            );
            let got = read_u32s(buf_u as *mut u32, n);
            assert_eq!(got[5], 5 + (round + 1) * 101, "round {round}");
        }
    });
    b.free(c, buf.cast());
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(exp));
    ok!(b, zeModuleDestroy(imp));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn source_attributes_and_function_pointers_with_sloppy_arguments() {
    let b = embedded();
    let c = b.context();
    let m = module(&b, c, MATMUL);
    let tiled = kernel(&b, m, c"matmul_tiled");
    let full = "reqd_work_group_size(16,16,1)";
    // pSize null, with either convention.
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeKernelGetSourceAttributes(tiled, null_mut(), null_mut())
    );
    let mut own: *mut c_char = null_mut();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeKernelGetSourceAttributes(tiled, null_mut(), &mut own)
    );
    // Buffers of 1, 2 and exactly the size: always terminated, never overrun (the guard
    // bytes after the announced size stay untouched).
    for room in [1u32, 2, full.len() as u32, full.len() as u32 + 1, 1000] {
        let mut buf = vec![0x55 as c_char; room as usize + 8];
        let mut p = buf.as_mut_ptr();
        let mut size = room;
        ok!(b, zeKernelGetSourceAttributes(tiled, &mut size, &mut p));
        assert_eq!(p, buf.as_mut_ptr());
        let text = (room as usize - 1).min(full.len());
        assert_eq!(size as usize, text + 1, "room {room}");
        // SAFETY: terminated within the buffer (checked below).
        let got = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(got, full[..text], "room {room}");
        assert!(
            buf[room as usize..].iter().all(|&x| x == 0x55),
            "room {room}"
        );
    }
    // A zero-sized buffer.
    let mut buf = [0x55 as c_char; 4];
    let mut p = buf.as_mut_ptr();
    let mut size = 0u32;
    let r = ze!(b, zeKernelGetSourceAttributes(tiled, &mut size, &mut p));
    assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(buf, [0x55; 4]);
    // Function pointers: null names and outputs, names that only prefix a kernel, non-UTF-8.
    let mut f = null_mut::<c_void>();
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleGetFunctionPointer(m, null(), &mut f)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeModuleGetFunctionPointer(m, c"matmul_tiled".as_ptr(), null_mut())
    );
    for name in [
        c"",
        c"matmul",
        c"matmul_tiled ",
        c"\xff\xfe",
        c"MATMUL_TILED",
    ] {
        fails!(
            ZE_RESULT_ERROR_INVALID_FUNCTION_NAME,
            b,
            zeModuleGetFunctionPointer(m, name.as_ptr(), &mut f)
        );
    }
    ok!(b, zeKernelDestroy(tiled));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn kernel_timestamp_queries_with_bad_events_and_destinations() {
    let b = embedded();
    let c = b.context();
    let ts = b.event_pool(
        c,
        2,
        ze_event_pool_flag_t::ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP.0,
    );
    let plain = b.event_pool(c, 1, 0);
    let (e0, e1, p0) = (b.event(ts, 0), b.event(ts, 1), b.event(plain, 0));
    let results = b.alloc_host(c, 64);
    let size = std::mem::size_of::<ze_kernel_timestamp_result_t>();
    let list = b.list(c, 0);
    let append = |events: &mut [ze_event_handle_t], dst: *mut u8, offsets: *const usize| {
        ze!(
            b,
            zeCommandListAppendQueryKernelTimestamps(
                list,
                events.len() as u32,
                events.as_mut_ptr(),
                dst.cast(),
                offsets,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        )
    };
    // Not a timestamp pool; null arrays; a destination past its allocation (packed or at an
    // offset); an offset that wraps around the address space.
    assert_eq!(
        append(&mut [e0, p0], results, null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListAppendQueryKernelTimestamps(
            list,
            1,
            null_mut(),
            results.cast(),
            null(),
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    assert_eq!(
        append(&mut [e0], null_mut(), null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER
    );
    let two = 2 * size;
    assert!(two <= 64);
    // SAFETY: an address inside the allocation, so that two results overrun it.
    let near_end = unsafe { results.add(64 - size - 1) };
    assert_eq!(
        append(&mut [e0, e1], near_end, null()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    let offsets = [0usize, 64];
    assert_eq!(
        append(&mut [e0, e1], results, offsets.as_ptr()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    let offsets = [0usize, usize::MAX - 8];
    assert_eq!(
        append(&mut [e0, e1], results, offsets.as_ptr()),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    // Unsignalled events when the query runs: the submission fails, nothing crashes, and the
    // list can run again once the events are signalled.
    let offsets = [size, 0usize];
    assert_eq!(
        append(&mut [e0, e1], results, offsets.as_ptr()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    ok!(b, zeCommandListClose(list));
    let q = b.queue(c, 0);
    let mut lists = [list];
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    ok!(b, zeEventHostSignal(e0));
    ok!(b, zeEventHostSignal(e1));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
    );
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    // An event destroyed after the query was recorded: the recorded query still runs safely.
    ok!(b, zeEventDestroy(e1));
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
    );
    let _ = ze!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeCommandListDestroy(list));
    b.free(c, results);
    ok!(b, zeEventDestroy(e0));
    ok!(b, zeEventDestroy(p0));
    ok!(b, zeEventPoolDestroy(ts));
    ok!(b, zeEventPoolDestroy(plain));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn copies_from_other_contexts_with_sloppy_arguments() {
    let b = embedded();
    let other = embedded();
    let (c, c2, c3) = (b.context(), b.context(), b.context());
    let data = pattern(256, 9);
    let src = b.alloc_host(c2, 256);
    // SAFETY: a host allocation of 256 bytes.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), src, 256) };
    let dst = b.alloc_host(c, 256);
    let imm = b.immediate(c, 0);
    let copy = |dst: *mut u8, ctx: ze_context_handle_t, src: *const u8, n: usize| {
        let r = ze!(
            b,
            zeCommandListAppendMemoryCopyFromContext(
                imm,
                dst.cast(),
                ctx,
                src.cast(),
                n,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        if r == ze_result_t::ZE_RESULT_SUCCESS {
            b.finish(c, imm);
        }
        r
    };
    // The allocation belongs to c2, not c3.
    assert_eq!(
        copy(dst, c3, src, 256),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // Overrunning the source allocation.
    assert_eq!(
        copy(dst, c2, src, 257),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    // A context of another driver instance.
    let oc = other.context();
    assert_eq!(
        copy(dst, oc, src, 256),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    ok!(other, zeContextDestroy(oc));
    // A destroyed source context: its handle is stale.
    ok!(b, zeContextDestroy(c3));
    let r = copy(dst, c3, src, 256);
    assert_ne!(r, ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(
        copy(dst, null_mut(), src, 256),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
    );
    // Host memory outside every allocation is the application's: copied.
    let host_src = pattern(64, 1);
    let mut host_dst = vec![0u8; 64];
    assert_eq!(
        copy(host_dst.as_mut_ptr(), c2, host_src.as_ptr(), 64),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(host_dst, host_src);
    assert_eq!(copy(dst, c2, src, 256), ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: 256 bytes of a host allocation, the copy finished.
    assert_eq!(unsafe { std::slice::from_raw_parts(dst, 256) }, &data[..]);
    // The source freed before a queued copy runs: the copy fails, nothing is read.
    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let mut waits = [gate];
    ok!(
        b,
        zeCommandListAppendMemoryCopyFromContext(
            imm,
            dst.cast(),
            c2,
            src.cast(),
            256,
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    b.free(c2, src);
    ok!(b, zeEventHostSignal(gate));
    let r = ze!(b, zeCommandListHostSynchronize(imm, u64::MAX));
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    ok!(b, zeCommandListDestroy(imm));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, dst);
    ok!(b, zeContextDestroy(c2));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
    other.assert_no_leaks();
}

/// The ordinals of the device's queue groups that compute, and that only copy.
fn groups(b: &Backend, device: usize) -> (Vec<u32>, Vec<u32>) {
    let mut n = 0;
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(b.devices[device], &mut n, null_mut())
    );
    let mut props = vec![ze_command_queue_group_properties_t::default(); n as usize];
    ok!(
        b,
        zeDeviceGetCommandQueueGroupProperties(b.devices[device], &mut n, props.as_mut_ptr())
    );
    let compute =
        ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0;
    let (mut c, mut k) = (Vec::new(), Vec::new());
    for (i, p) in props.iter().enumerate() {
        if p.flags & compute != 0 {
            c.push(i as u32);
        } else {
            k.push(i as u32);
        }
    }
    (c, k)
}

fn immediate_on(
    b: &Backend,
    c: ze_context_handle_t,
    device: usize,
    ordinal: u32,
) -> ze_command_list_handle_t {
    let desc = Backend::queue_desc(
        ordinal,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(c, b.devices[device], &desc, &mut l)
    );
    l
}

#[test]
fn immediate_append_of_odd_lists() {
    let b = embedded();
    let c = b.context();
    let (compute, copy) = groups(&b, 0);
    assert!(!copy.is_empty());
    let imm = b.immediate(c, 0);
    let data = pattern(128, 4);
    let dst = b.alloc_host(c, 128);
    let record_copy = |ordinal: u32, device: usize| {
        let l = b.list_on(c, device, ordinal);
        ok!(
            b,
            zeCommandListAppendMemoryCopy(
                l,
                dst.cast(),
                data.as_ptr().cast(),
                128,
                NULL_EVENT,
                0,
                NO_WAITS
            )
        );
        ok!(b, zeCommandListClose(l));
        l
    };
    let append = |imm: ze_command_list_handle_t, lists: &mut [ze_command_list_handle_t]| {
        ze!(
            b,
            zeCommandListImmediateAppendCommandListsExp(
                imm,
                lists.len() as u32,
                lists.as_mut_ptr(),
                NULL_EVENT,
                0,
                NO_WAITS
            )
        )
    };
    let on_compute = record_copy(compute[0], 0);
    // The same list twice in one call, and an empty call: fine.
    assert_eq!(
        append(imm, &mut [on_compute, on_compute]),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(append(imm, &mut []), ze_result_t::ZE_RESULT_SUCCESS);
    b.finish(c, imm);
    // SAFETY: 128 bytes of a host allocation, the copies finished.
    assert_eq!(unsafe { std::slice::from_raw_parts(dst, 128) }, &data[..]);
    // A list of the other device; the immediate list itself; null entries and arrays.
    let on_other = record_copy(compute[0], 1);
    assert_eq!(
        append(imm, &mut [on_other]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        append(imm, &mut [imm]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        append(imm, &mut [on_compute, null_mut()]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeCommandListImmediateAppendCommandListsExp(imm, 1, null_mut(), NULL_EVENT, 0, NO_WAITS)
    );
    // Engine types: a compute list on a copy-only immediate list is refused; a copy-only list
    // runs on any copy-only immediate list (its engine type), as on queues.
    let copy_imm = immediate_on(&b, c, 0, copy[0]);
    assert_eq!(
        append(copy_imm, &mut [on_compute]),
        ze_result_t::ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE
    );
    let on_copy = record_copy(copy[0], 0);
    for &ordinal in &copy {
        let other_copy = immediate_on(&b, c, 0, ordinal);
        assert_eq!(
            append(other_copy, &mut [on_copy]),
            ze_result_t::ZE_RESULT_SUCCESS,
            "a list of copy group {} on an immediate list of copy group {ordinal}",
            copy[0]
        );
        b.finish(c, other_copy);
        ok!(b, zeCommandListDestroy(other_copy));
    }
    // A list in flight (its submission waits on an event) cannot be destroyed or reset; it
    // can once its execution finished.
    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let mut waits = [gate];
    let mut lists = [on_compute];
    ok!(
        b,
        zeCommandListImmediateAppendCommandListsExp(
            imm,
            1,
            lists.as_mut_ptr(),
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeCommandListDestroy(on_compute)
    );
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zeCommandListReset(on_compute)
    );
    ok!(b, zeEventHostSignal(gate));
    b.finish(c, imm);
    ok!(b, zeCommandListDestroy(on_compute));
    for l in [on_other, on_copy, copy_imm, imm] {
        ok!(b, zeCommandListDestroy(l));
    }
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, dst);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn atomic_access_attributes_on_wrong_memory() {
    let b = embedded();
    let (c, c2) = (b.context(), b.context());
    let dev = b.devices[0];
    let shared = b.alloc_shared(c, 4096, 0);
    let shared2 = b.alloc_shared(c, 4096, 0);
    let host = b.alloc_host(c, 4096);
    let device = b.alloc_device(c, 4096, 0);
    let set = |ctx: ze_context_handle_t, p: *const u8, n: usize, attr: u32| {
        ze!(
            b,
            zeMemSetAtomicAccessAttributeExp(ctx, dev, p.cast(), n, attr)
        )
    };
    let get = |ctx: ze_context_handle_t, p: *const u8, n: usize| {
        let mut attr = 0xdead;
        let r = ze!(
            b,
            zeMemGetAtomicAccessAttributeExp(ctx, dev, p.cast(), n, &mut attr)
        );
        (r, attr)
    };
    let device_atomics = 0x10;
    assert_eq!(
        set(c, host, 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        set(c, device, 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    let stack = [0u8; 16];
    assert_eq!(
        set(c, stack.as_ptr(), 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        set(c2, shared, 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        set(c, null(), 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_POINTER
    );
    // Ranges crossing the end of the allocation, empty, or wrapping around.
    // SAFETY: address computations inside the allocation.
    let near_end = unsafe { shared.add(4090) };
    assert_eq!(
        set(c, near_end, 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    assert_eq!(
        set(c, shared, 0, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    assert_eq!(
        set(c, shared, usize::MAX, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    assert_eq!(
        set(c, shared, 8192, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE
    );
    let (r, _) = get(c, near_end, usize::MAX);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_SIZE);
    // Flags out of range or contradictory.
    assert_eq!(
        set(c, shared, 16, 0x80),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );
    assert_eq!(
        set(c, shared, 16, 0x18),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // Set, then freed: the attribute goes with the allocation (a new allocation, perhaps at
    // the same address, starts without one); the freed pointer is refused.
    assert_eq!(
        set(c, shared, 4096, device_atomics),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        get(c, shared, 16),
        (ze_result_t::ZE_RESULT_SUCCESS, device_atomics)
    );
    b.free(c, shared);
    assert_eq!(
        set(c, shared, 16, device_atomics),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        get(c, shared, 16).0,
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    let again = b.alloc_shared(c, 4096, 0);
    assert_eq!(get(c, again, 16), (ze_result_t::ZE_RESULT_SUCCESS, 0));
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeMemGetAtomicAccessAttributeExp(c, dev, again.cast(), 16, null_mut())
    );
    for p in [again, shared2, host, device] {
        b.free(c, p);
    }
    ok!(b, zeContextDestroy(c));
    ok!(b, zeContextDestroy(c2));
    b.assert_no_leaks();
}

/// A second thread destroys (or tries to) what the first is using: the destroy is refused
/// while the object is in use, the user sees a clean error once it is gone, nothing crashes.
#[test]
fn destroying_from_another_thread_while_in_use() {
    let b = embedded();
    let c = b.context();
    let data = pattern(4096, 2);
    let dst = b.alloc_host(c, 4096);
    let list = b.list(c, 0);
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            list,
            dst.cast(),
            data.as_ptr().cast(),
            4096,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(list));
    let q = b.queue(c, 0);
    // The context cannot go while a thread keeps creating and destroying objects in it and
    // the list lives; the list cannot go while an execution waits.
    let pool = b.event_pool(c, 1, 0);
    let gate = b.event(pool, 0);
    let blocked = b.immediate(c, 0);
    let mut waits = [gate];
    let mut lists = [list];
    ok!(
        b,
        zeCommandListImmediateAppendCommandListsExp(
            blocked,
            1,
            lists.as_mut_ptr(),
            NULL_EVENT,
            1,
            waits.as_mut_ptr()
        )
    );
    let (c_u, list_u, q_u) = (c as usize, list as usize, q as usize);
    std::thread::scope(|s| {
        let bb = &b;
        let churn = s.spawn(move || {
            let c = c_u as ze_context_handle_t;
            for _ in 0..200 {
                let p = bb.event_pool(c, 1, 0);
                let img = image(
                    bb,
                    c,
                    &image_desc(
                        I::ZE_IMAGE_TYPE_1D,
                        L::ZE_IMAGE_FORMAT_LAYOUT_8,
                        [16, 0, 0],
                        0,
                    ),
                );
                ok!(bb, zeImageDestroy(img));
                ok!(bb, zeEventPoolDestroy(p));
            }
        });
        for _ in 0..200 {
            fails!(
                ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
                bb,
                zeContextDestroy(c_u as ze_context_handle_t)
            );
            fails!(
                ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
                bb,
                zeCommandListDestroy(list_u as ze_command_list_handle_t)
            );
        }
        churn.join().unwrap();
    });
    ok!(b, zeEventHostSignal(gate));
    b.finish(c, blocked);
    // Now a thread executes the list again and again while another destroys it as soon as
    // the driver allows: executions after the destroy fail with a handle error.
    std::thread::scope(|s| {
        let bb = &b;
        let runner = s.spawn(move || {
            let mut lists = [list_u as ze_command_list_handle_t];
            let q = q_u as ze_command_queue_handle_t;
            let mut ran = 0;
            loop {
                let r = ze!(
                    bb,
                    zeCommandQueueExecuteCommandLists(q, 1, lists.as_mut_ptr(), null_mut())
                );
                if r != ze_result_t::ZE_RESULT_SUCCESS {
                    assert!(
                        r == ze_result_t::ZE_RESULT_ERROR_INVALID_NULL_HANDLE
                            || r == ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
                            || r == ze_result_t::ZE_RESULT_ERROR_UNINITIALIZED,
                        "{r:?}"
                    );
                    break;
                }
                ran += 1;
                let _ = ze!(bb, zeCommandQueueSynchronize(q, u64::MAX));
            }
            ran
        });
        loop {
            let r = ze!(bb, zeCommandListDestroy(list_u as ze_command_list_handle_t));
            if r == ze_result_t::ZE_RESULT_SUCCESS {
                break;
            }
            assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE);
            std::thread::yield_now();
        }
        runner.join().unwrap();
    });
    ok!(b, zeCommandQueueSynchronize(q, u64::MAX));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeCommandListDestroy(blocked));
    ok!(b, zeEventDestroy(gate));
    ok!(b, zeEventPoolDestroy(pool));
    b.free(c, dst);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

fn config(vars: &[(&str, &str)]) -> (level_zero_cpu::Config, Vec<level_zero_cpu::ConfigError>) {
    level_zero_cpu::Config::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn device_count(config: level_zero_cpu::Config) -> usize {
    let b = Backend::embedded_with(config);
    let n = b.devices.len();
    b.assert_no_leaks();
    n
}

#[test]
fn malformed_topology_variables() {
    let long = "0,".repeat(100_000);
    let long_tiles = "0.1,".repeat(50_000);
    let junk = "\u{1F600}".repeat(10_000);
    // Malformed values of the driver's own variables: reported, the default kept.
    for (name, value) in [
        ("LEVEL_ZERO_CPU_SUBDEVICES", "-2"),
        ("LEVEL_ZERO_CPU_SUBDEVICES", "1"),
        ("LEVEL_ZERO_CPU_SUBDEVICES", "17"),
        ("LEVEL_ZERO_CPU_SUBDEVICES", "4294967298"),
        ("LEVEL_ZERO_CPU_SUBDEVICES", "99999999999999999999999"),
        ("LEVEL_ZERO_CPU_SUBDEVICES", ""),
        ("LEVEL_ZERO_CPU_SUBDEVICES", junk.as_str()),
        ("ZE_FLAT_DEVICE_HIERARCHY", "flat "),
        ("ZE_FLAT_DEVICE_HIERARCHY", junk.as_str()),
        ("LEVEL_ZERO_CPU_DEVICES", "-1"),
        ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "99999999999T"),
    ] {
        let (c, errors) = config(&[(name, value)]);
        assert_eq!(errors.len(), 1, "{name}={value:.40}");
        assert_eq!(c.subdevices, 0);
        assert_eq!(device_count(c), 2, "{name}={value:.40}");
    }
    // Affinity masks: entries that name no device are ignored; what remains shows.
    for (tiles, hierarchy, mask, expect) in [
        ("0", "FLAT", "99999999999999999999999", 0),
        ("0", "FLAT", "-1", 0),
        ("0", "FLAT", "1,1,1,1", 1),
        ("0", "FLAT", long.as_str(), 1),
        ("0", "FLAT", " ,0,, ,", 1),
        ("0", "FLAT", "0.0", 0),
        ("0", "FLAT", junk.as_str(), 0),
        ("2", "FLAT", "3,3,0,18446744073709551615", 2),
        ("2", "FLAT", "4", 0),
        (
            "2",
            "COMPOSITE",
            "0.1,0.1,0.5,5.0,0.18446744073709551616,1.",
            1,
        ),
        ("2", "COMPOSITE", long_tiles.as_str(), 1),
        ("2", "COMPOSITE", "0.0.0,0..1,.,0.-1", 0),
        ("2", "COMPOSITE", "0,0.1", 1),
        ("4", "COMBINED", "0,1,2,3,4,5,6,7,8", 8),
    ] {
        let (c, errors) = config(&[
            ("LEVEL_ZERO_CPU_SUBDEVICES", tiles),
            ("ZE_FLAT_DEVICE_HIERARCHY", hierarchy),
            ("ZE_AFFINITY_MASK", mask),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        let t = std::time::Instant::now();
        assert_eq!(device_count(c), expect, "{tiles} {hierarchy} {mask:.40}");
        assert!(t.elapsed().as_secs() < 5);
    }
}

#[test]
fn sub_device_memory_and_peer_access_between_tiles() {
    let (c, errors) = config(&[
        ("LEVEL_ZERO_CPU_SUBDEVICES", "2"),
        ("ZE_FLAT_DEVICE_HIERARCHY", "COMPOSITE"),
        ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "64M"),
        ("LEVEL_ZERO_CPU_MAX_ALLOC", "32M"),
    ]);
    assert!(errors.is_empty());
    let b = Backend::embedded_with(c);
    let root = b.devices[0];
    let mut n = 0;
    ok!(b, zeDeviceGetSubDevices(root, &mut n, null_mut()));
    assert_eq!(n, 2);
    let mut tiles = vec![null_mut(); 2];
    ok!(b, zeDeviceGetSubDevices(root, &mut n, tiles.as_mut_ptr()));
    let ctx = b.context();
    let alloc = |d: ze_device_handle_t, size: usize| {
        let desc = ze_device_mem_alloc_desc_t::default();
        let mut p = null_mut();
        let r = ze!(b, zeMemAllocDevice(ctx, &desc, size, 0, d, &mut p));
        (r, p.cast::<u8>())
    };
    // Each tile has half the card: a tile's full share fits, one byte more does not.
    let (r, t0) = alloc(tiles[0], 32 << 20);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let (r, p) = alloc(tiles[0], 1);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY);
    assert!(p.is_null());
    let (r, t1) = alloc(tiles[1], 16 << 20);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // The card has 64M in all: 48M are used by its tiles.
    let (r, p) = alloc(root, 32 << 20);
    assert_eq!(
        r,
        ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
        "the card is shared"
    );
    assert!(p.is_null());
    let (r, on_root) = alloc(root, 16 << 20);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // Peer access between the tiles, and a copy from one tile's memory to the other's.
    let mut can = 0;
    ok!(b, zeDeviceCanAccessPeer(tiles[0], tiles[1], &mut can));
    assert_eq!(can, 1);
    let data = pattern(4096, 8);
    b.upload(ctx, t0, &data);
    let desc = Backend::queue_desc(
        0,
        0,
        ze_command_queue_mode_t::ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
    );
    let mut l = null_mut();
    ok!(
        b,
        zeCommandListCreateImmediate(ctx, tiles[1], &desc, &mut l)
    );
    ok!(
        b,
        zeCommandListAppendMemoryCopy(l, t1.cast(), t0.cast(), 4096, NULL_EVENT, 0, NO_WAITS)
    );
    b.finish(ctx, l);
    ok!(b, zeCommandListDestroy(l));
    assert_eq!(b.download(ctx, t1, 4096), data);
    for p in [t0, t1, on_root] {
        b.free(ctx, p);
    }
    ok!(b, zeContextDestroy(ctx));
    b.assert_no_leaks();
}
