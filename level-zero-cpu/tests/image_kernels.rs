//! Kernels with image and sampler arguments through the driver's entry points: images made
//! with `zeImageCreate`, samplers with `zeSamplerCreate`, passed by handle through
//! `zeKernelSetArgumentValue`, run on `kernels/spv/images.O2.spv` and read back with image
//! copies; the failures (an image destroyed before the launch runs, an image of another
//! context, a wrong argument size) are clean errors.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::CString;
use std::ptr::null_mut;

use common::{Backend, NO_WAITS, NULL_EVENT};
use level_zero_sys::*;

use ze_image_format_layout_t as L;
use ze_image_format_swizzle_t as S;
use ze_image_format_type_t as T;

fn image(
    b: &Backend,
    c: ze_context_handle_t,
    layout: L,
    ty: T,
    w: u64,
    h: u32,
    write: bool,
) -> ze_image_handle_t {
    let desc = ze_image_desc_t {
        flags: if write {
            ze_image_flag_t::ZE_IMAGE_FLAG_KERNEL_WRITE.0
        } else {
            0
        },
        type_: ze_image_type_t::ZE_IMAGE_TYPE_2D,
        format: ze_image_format_t {
            layout,
            type_: ty,
            x: S::ZE_IMAGE_FORMAT_SWIZZLE_R,
            y: S::ZE_IMAGE_FORMAT_SWIZZLE_G,
            z: S::ZE_IMAGE_FORMAT_SWIZZLE_B,
            w: S::ZE_IMAGE_FORMAT_SWIZZLE_A,
        },
        width: w,
        height: h,
        depth: 1,
        ..Default::default()
    };
    let mut img = null_mut();
    ok!(b, zeImageCreate(c, b.devices[0], &desc, &mut img));
    img
}

fn kernel(
    b: &Backend,
    c: ze_context_handle_t,
    name: &str,
) -> (ze_module_handle_t, ze_kernel_handle_t) {
    let spv = std::fs::read(format!(
        "{}/kernels/spv/images.O2.spv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: spv.len(),
        pInputModule: spv.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let name = CString::new(name).unwrap();
    let kd = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &kd, &mut k));
    (m, k)
}

fn set_handle<H>(b: &Backend, k: ze_kernel_handle_t, index: u32, h: *mut H) -> ze_result_t {
    let h: *mut H = h;
    ze!(
        b,
        zeKernelSetArgumentValue(
            k,
            index,
            std::mem::size_of::<*mut H>(),
            (&raw const h).cast()
        )
    )
}

fn launch(
    b: &Backend,
    c: ze_context_handle_t,
    k: ze_kernel_handle_t,
    size: [u32; 3],
) -> ze_result_t {
    ok!(b, zeKernelSetGroupSize(k, size[0], size[1], size[2]));
    let l = b.immediate(c, 0);
    let groups = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &groups, NULL_EVENT, 0, NO_WAITS)
    );
    let r = ze!(b, zeCommandListHostSynchronize(l, u64::MAX));
    ok!(b, zeCommandListDestroy(l));
    r
}

#[test]
fn a_kernel_reads_and_writes_images_given_by_handle() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let mut props = ze_device_image_properties_t::default();
    ok!(b, zeDeviceGetImageProperties(b.devices[0], &mut props));
    assert!(
        props.maxReadImageArgs >= 8 && props.maxWriteImageArgs >= 8,
        "{props:?}"
    );
    let (w, h) = (6u64, 4u32);
    let src_data: Vec<u8> = (0..w as usize * h as usize * 4)
        .map(|i| (i * 29 % 256) as u8)
        .collect();
    let src = image(
        &b,
        c,
        L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
        T::ZE_IMAGE_FORMAT_TYPE_UNORM,
        w,
        h,
        false,
    );
    let dst = image(
        &b,
        c,
        L::ZE_IMAGE_FORMAT_LAYOUT_8_8_8_8,
        T::ZE_IMAGE_FORMAT_TYPE_UNORM,
        w,
        h,
        true,
    );
    b.upload_image(c, src, &src_data);
    let (m, k) = kernel(&b, c, "img_scale");
    assert_eq!(set_handle(&b, k, 0, src), ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(set_handle(&b, k, 1, dst), ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(
        launch(&b, c, k, [w as u32, h, 1]),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let want: Vec<u8> = src_data
        .iter()
        .map(|&v| (2 * u32::from(v)).min(255) as u8)
        .collect();
    assert_eq!(b.download_image(c, dst, want.len()), want);

    // A wrong size is refused.
    let handle = src;
    let r = ze!(
        b,
        zeKernelSetArgumentValue(k, 0, 4, (&raw const handle).cast())
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE);

    // The image destroyed after the argument was set: the launch fails, nothing is touched.
    ok!(b, zeImageDestroy(src));
    let r = launch(&b, c, k, [w as u32, h, 1]);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeImageDestroy(dst));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn a_kernel_samples_with_a_sampler_given_by_handle() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let img = image(
        &b,
        c,
        L::ZE_IMAGE_FORMAT_LAYOUT_8,
        T::ZE_IMAGE_FORMAT_TYPE_UNORM,
        2,
        2,
        false,
    );
    b.upload_image(c, img, &[0, 255, 255, 0]);
    let sd = ze_sampler_desc_t {
        addressMode: ze_sampler_address_mode_t::ZE_SAMPLER_ADDRESS_MODE_CLAMP,
        filterMode: ze_sampler_filter_mode_t::ZE_SAMPLER_FILTER_MODE_LINEAR,
        isNormalized: 1,
        ..Default::default()
    };
    let mut smp = null_mut();
    ok!(b, zeSamplerCreate(c, b.devices[0], &sd, &mut smp));
    let coords: [[f32; 2]; 2] = [[0.5, 0.5], [0.25, 0.25]];
    let cbuf = b.alloc_shared(c, 16, 0);
    let obuf = b.alloc_shared(c, 32, 0);
    // SAFETY: shared allocations of at least these sizes, not in use by the device yet.
    unsafe {
        std::ptr::copy_nonoverlapping(coords.as_ptr().cast::<u8>(), cbuf, 16);
    }
    let (m, k) = kernel(&b, c, "img_sample2d");
    assert_eq!(set_handle(&b, k, 0, img), ze_result_t::ZE_RESULT_SUCCESS);
    assert_eq!(set_handle(&b, k, 1, smp), ze_result_t::ZE_RESULT_SUCCESS);
    ok!(
        b,
        zeKernelSetArgumentValue(k, 2, 8, (&raw const cbuf).cast())
    );
    ok!(
        b,
        zeKernelSetArgumentValue(k, 3, 8, (&raw const obuf).cast())
    );
    assert_eq!(launch(&b, c, k, [2, 1, 1]), ze_result_t::ZE_RESULT_SUCCESS);
    let mut out = [[0f32; 4]; 2];
    // SAFETY: the kernel finished; 32 bytes of shared memory.
    unsafe { std::ptr::copy_nonoverlapping(obuf, out.as_mut_ptr().cast::<u8>(), 32) };
    // The centre of a 0/255 checkerboard: the mean; a texel's centre: the texel (alpha 1).
    assert_eq!(out, [[0.5, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]);

    // An image of another context is refused when set.
    let c2 = b.context();
    let other = image(
        &b,
        c2,
        L::ZE_IMAGE_FORMAT_LAYOUT_8,
        T::ZE_IMAGE_FORMAT_TYPE_UNORM,
        2,
        2,
        false,
    );
    assert_eq!(
        set_handle(&b, k, 0, other),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    ok!(b, zeImageDestroy(other));
    ok!(b, zeContextDestroy(c2));

    ok!(b, zeKernelDestroy(k));
    ok!(b, zeModuleDestroy(m));
    ok!(b, zeSamplerDestroy(smp));
    ok!(b, zeImageDestroy(img));
    b.free(c, cbuf);
    b.free(c, obuf);
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
