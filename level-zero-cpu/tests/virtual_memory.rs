//! Virtual memory (`zeVirtualMem*`, `zePhysicalMem*`): reservations, physical memory, maps,
//! access attributes enforced by copies, fills and the kernel sanitizer, and the rules of the
//! specification, through the embedded driver.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use common::{Backend, NO_WAITS, NULL_EVENT, pattern};
use level_zero_sys::*;

const PAGE: usize = 64 << 10;
const RW: ze_memory_access_attribute_t =
    ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READWRITE;
const RO: ze_memory_access_attribute_t =
    ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_READONLY;
const NONE: ze_memory_access_attribute_t =
    ze_memory_access_attribute_t::ZE_MEMORY_ACCESS_ATTRIBUTE_NONE;

fn reserve(b: &Backend, c: ze_context_handle_t, size: usize) -> usize {
    let mut p = null_mut();
    ok!(b, zeVirtualMemReserve(c, null(), size, &mut p));
    p as usize
}

fn physical(b: &Backend, c: ze_context_handle_t, size: usize) -> ze_physical_mem_handle_t {
    let mut desc = ze_physical_mem_desc_t {
        size,
        ..Default::default()
    };
    let mut h = null_mut();
    ok!(b, zePhysicalMemCreate(c, b.devices[0], &mut desc, &mut h));
    h
}

fn map(
    b: &Backend,
    c: ze_context_handle_t,
    at: usize,
    size: usize,
    h: ze_physical_mem_handle_t,
    offset: usize,
    access: ze_memory_access_attribute_t,
) -> ze_result_t {
    ze!(
        b,
        zeVirtualMemMap(c, at as *const c_void, size, h, offset, access)
    )
}

/// Copies `len` bytes on an immediate list: the result of the append, else of the wait.
fn copy(
    b: &Backend,
    l: ze_command_list_handle_t,
    dst: usize,
    src: usize,
    len: usize,
) -> ze_result_t {
    let r = ze!(
        b,
        zeCommandListAppendMemoryCopy(
            l,
            dst as *mut c_void,
            src as *const c_void,
            len,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    if r != ze_result_t::ZE_RESULT_SUCCESS {
        return r;
    }
    ze!(b, zeCommandListHostSynchronize(l, u64::MAX))
}

fn last_error(b: &Backend) -> String {
    let mut p = null();
    ok!(b, zeDriverGetLastErrorDescription(b.driver, &mut p));
    // SAFETY: the driver's NUL-terminated description.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn page_size_reserve_map_copy_and_properties() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let mut page = 0;
    ok!(b, zeVirtualMemQueryPageSize(c, b.devices[0], 1, &mut page));
    assert_eq!(page, PAGE);
    ok!(
        b,
        zeVirtualMemQueryPageSize(c, b.devices[0], 1 << 30, &mut page)
    );
    assert_eq!(page, PAGE);
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeVirtualMemQueryPageSize(c, b.devices[0], 0, &mut page)
    );

    let base = reserve(&b, c, 4 * PAGE);
    assert_eq!(base % PAGE, 0);
    let h = physical(&b, c, 2 * PAGE);
    let mut props = ze_physical_mem_properties_t::default();
    ok!(b, zePhysicalMemGetProperties(c, h, &mut props));
    assert_eq!(props.size, 2 * PAGE as u64);
    assert_eq!(
        map(&b, c, base, 2 * PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let live = b.live();
    assert_eq!(
        (
            live.virtual_reservations,
            live.physical_memory,
            live.virtual_mappings
        ),
        (1, 1, 1)
    );

    // The host sees the memory; copies use it.
    let l = b.immediate(c, 0);
    let data = pattern(2 * PAGE, 3);
    assert_eq!(
        copy(&b, l, base, data.as_ptr() as usize, data.len()),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    // SAFETY: the mapping is readable and writable host memory of 2 pages.
    let seen = unsafe { std::slice::from_raw_parts(base as *const u8, 2 * PAGE) };
    assert_eq!(seen, &data[..]);

    let mut ap = ze_memory_allocation_properties_t::default();
    ok!(
        b,
        zeMemGetAllocProperties(c, (base + 100) as *const c_void, &mut ap, null_mut())
    );
    assert_eq!(ap.type_, ze_memory_type_t::ZE_MEMORY_TYPE_DEVICE);
    assert_eq!(ap.id, props.id);
    assert_eq!(ap.pageSize, PAGE as u64);
    let (mut rb, mut rs) = (null_mut(), 0usize);
    ok!(
        b,
        zeMemGetAddressRange(c, (base + 100) as *const c_void, &mut rb, &mut rs)
    );
    assert_eq!((rb as usize, rs), (base, 2 * PAGE));

    // Unmapped pages of the reservation are not memory: a copy touching them is refused.
    let mut out = vec![0u8; 16];
    let r = copy(&b, l, out.as_mut_ptr() as usize, base + 2 * PAGE, 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert!(last_error(&b).contains("not mapped"), "{}", last_error(&b));
    let r = copy(&b, l, out.as_mut_ptr() as usize, base + 2 * PAGE - 8, 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);

    // Destroying mapped physical memory is refused.
    fails!(
        ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE,
        b,
        zePhysicalMemDestroy(c, h)
    );
    ok!(b, zeVirtualMemUnmap(c, base as *const c_void, 2 * PAGE));
    ok!(b, zePhysicalMemDestroy(c, h));
    ok!(b, zeVirtualMemFree(c, base as *const c_void, 4 * PAGE));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

#[test]
fn the_rules_of_the_specification_are_enforced() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let mut p = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeVirtualMemReserve(c, null(), 0, &mut p)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeVirtualMemReserve(c, null(), PAGE + 4096, &mut p)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeVirtualMemReserve(c, null(), PAGE, null_mut())
    );
    // The start is a hint: a free aligned address is honoured, a taken one is not.
    let base = reserve(&b, c, 8 * PAGE);
    let hint = base + 64 * PAGE * 1024;
    ok!(
        b,
        zeVirtualMemReserve(c, hint as *const c_void, PAGE, &mut p)
    );
    assert_eq!(p as usize, hint);
    ok!(b, zeVirtualMemFree(c, p, PAGE));
    ok!(
        b,
        zeVirtualMemReserve(c, base as *const c_void, PAGE, &mut p)
    );
    assert_ne!(p as usize, base);
    ok!(b, zeVirtualMemFree(c, p, PAGE));

    let mut desc = ze_physical_mem_desc_t {
        size: PAGE + 4096,
        ..Default::default()
    };
    let mut h = null_mut();
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zePhysicalMemCreate(c, b.devices[0], &mut desc, &mut h)
    );
    desc.size = 0;
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zePhysicalMemCreate(c, b.devices[0], &mut desc, &mut h)
    );
    desc.size = PAGE;
    desc.flags = 0x4;
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zePhysicalMemCreate(c, b.devices[0], &mut desc, &mut h)
    );
    // Host physical memory: the system page, no device needed.
    desc.flags = ze_physical_mem_flag_t::ZE_PHYSICAL_MEM_FLAG_ALLOCATE_ON_HOST.0;
    desc.size = 4096;
    ok!(b, zePhysicalMemCreate(c, null_mut(), &mut desc, &mut h));
    ok!(b, zePhysicalMemDestroy(c, h));

    let h = physical(&b, c, 4 * PAGE);
    // Alignment of the address, the size and the offset.
    assert_eq!(
        map(&b, c, base + 4096, PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT
    );
    assert_eq!(
        map(&b, c, base, 4096, h, 0, RW),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT
    );
    assert_eq!(
        map(&b, c, base, PAGE, h, 4096, RW),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT
    );
    assert_eq!(
        map(&b, c, base, 0, h, 0, RW),
        ze_result_t::ZE_RESULT_ERROR_UNSUPPORTED_SIZE
    );
    assert_eq!(
        map(&b, c, base, PAGE, h, 0, ze_memory_access_attribute_t(3)),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ENUMERATION
    );
    // Past the physical memory, outside a reservation, across its end.
    assert_eq!(
        map(&b, c, base, 2 * PAGE, h, 3 * PAGE, RW),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    let mut outside = vec![0u8; 3 * PAGE];
    let o = (outside.as_mut_ptr() as usize).next_multiple_of(PAGE);
    assert_eq!(
        map(&b, c, o, PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error(&b).contains("not inside a virtual memory reservation"));
    assert_eq!(
        map(&b, c, base + 7 * PAGE, 2 * PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    // Overlapping maps.
    assert_eq!(
        map(&b, c, base, 2 * PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        map(&b, c, base + PAGE, 2 * PAGE, h, 2 * PAGE, RW),
        ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error(&b).contains("overlaps the mapping"));
    // Unmapping what is not mapped, or part of a mapping.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeVirtualMemUnmap(c, (base + 4 * PAGE) as *const c_void, PAGE)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
        b,
        zeVirtualMemUnmap(c, base as *const c_void, PAGE)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zeVirtualMemUnmap(c, (base + 1) as *const c_void, PAGE)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
        b,
        zeVirtualMemUnmap(c, base as *const c_void, 0)
    );
    // Freeing part of a reservation is refused; freeing it whole unmaps its mappings.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeVirtualMemFree(c, base as *const c_void, PAGE)
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zeVirtualMemFree(c, (base + 4096) as *const c_void, PAGE)
    );
    // zeMemFree is not for mappings.
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeMemFree(c, base as *mut c_void)
    );
    // The context is in use while reservations and physical memory live.
    fails!(ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE, b, zeContextDestroy(c));
    ok!(b, zeVirtualMemFree(c, base as *const c_void, 8 * PAGE));
    assert_eq!(b.live().virtual_mappings, 0);
    ok!(b, zePhysicalMemDestroy(c, h));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

/// Mapping more pages after the existing ones grows a buffer in place: the old data stays,
/// and copies run across the boundary of two mappings.
#[test]
fn growing_in_place_keeps_the_data_and_spans_mappings() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let base = reserve(&b, c, 16 * PAGE);
    let first = physical(&b, c, PAGE);
    assert_eq!(
        map(&b, c, base, PAGE, first, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let l = b.immediate(c, 0);
    let old = pattern(PAGE, 11);
    assert_eq!(
        copy(&b, l, base, old.as_ptr() as usize, PAGE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let second = physical(&b, c, 2 * PAGE);
    assert_eq!(
        map(&b, c, base + PAGE, 2 * PAGE, second, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    // SAFETY: 3 mapped pages.
    let all = unsafe { std::slice::from_raw_parts(base as *const u8, 3 * PAGE) };
    assert_eq!(&all[..PAGE], &old[..]);
    assert!(
        all[PAGE..].iter().all(|&x| x == 0),
        "new physical memory reads as zeros"
    );
    // One copy and one fill across the two mappings.
    let data = pattern(PAGE, 5);
    assert_eq!(
        copy(&b, l, base + PAGE / 2, data.as_ptr() as usize, PAGE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(&all[PAGE / 2..PAGE / 2 + PAGE], &data[..]);
    let mut back = vec![0u8; 2 * PAGE];
    assert_eq!(
        copy(&b, l, back.as_mut_ptr() as usize, base + PAGE / 2, 2 * PAGE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(&back[..], &all[PAGE / 2..PAGE / 2 + 2 * PAGE]);
    let v = [0xabu8];
    ok!(
        b,
        zeCommandListAppendMemoryFill(
            l,
            (base + PAGE - 10) as *mut c_void,
            v.as_ptr().cast(),
            1,
            20,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListHostSynchronize(l, u64::MAX));
    assert!(all[PAGE - 10..PAGE + 10].iter().all(|&x| x == 0xab));
    // But not past the last mapping.
    let r = copy(&b, l, back.as_mut_ptr() as usize, base + 2 * PAGE, 2 * PAGE);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    // Destroyed physical memory comes back as zeros.
    ok!(b, zeVirtualMemUnmap(c, base as *const c_void, 3 * PAGE));
    ok!(b, zePhysicalMemDestroy(c, first));
    let again = physical(&b, c, PAGE);
    assert_eq!(
        map(&b, c, base, PAGE, again, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    // SAFETY: one mapped page.
    let page = unsafe { std::slice::from_raw_parts(base as *const u8, PAGE) };
    assert!(page.iter().all(|&x| x == 0));
    ok!(b, zeVirtualMemFree(c, base as *const c_void, 16 * PAGE));
    ok!(b, zePhysicalMemDestroy(c, again));
    ok!(b, zePhysicalMemDestroy(c, second));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}

fn spv(name: &str) -> Vec<u8> {
    let path = format!("{}/kernels/spv/{name}.O2.spv", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Launches a kernel of `out_of_bounds` with pointer and value arguments, `n` work-items in
/// one group: the synchronisation's result.
fn launch(
    b: &Backend,
    m: ze_module_handle_t,
    l: ze_command_list_handle_t,
    name: &std::ffi::CStr,
    args: &[&[u8]],
    n: u32,
) -> ze_result_t {
    let desc = ze_kernel_desc_t {
        pKernelName: name.as_ptr(),
        ..Default::default()
    };
    let mut k = null_mut();
    ok!(b, zeKernelCreate(m, &desc, &mut k));
    for (i, a) in args.iter().enumerate() {
        ok!(
            b,
            zeKernelSetArgumentValue(k, i as u32, a.len(), a.as_ptr().cast())
        );
    }
    ok!(b, zeKernelSetGroupSize(k, n, 1, 1));
    let one = ze_group_count_t {
        groupCountX: 1,
        groupCountY: 1,
        groupCountZ: 1,
    };
    ok!(
        b,
        zeCommandListAppendLaunchKernel(l, k, &one, NULL_EVENT, 0, NO_WAITS)
    );
    let r = ze!(b, zeCommandListHostSynchronize(l, u64::MAX));
    ok!(b, zeKernelDestroy(k));
    r
}

#[test]
fn access_attributes_are_enforced_by_copies_fills_and_kernels() {
    let b = Backend::embedded(&[]);
    let c = b.context();
    let base = reserve(&b, c, 4 * PAGE);
    let h = physical(&b, c, 2 * PAGE);
    assert_eq!(
        map(&b, c, base, PAGE, h, 0, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(
        map(&b, c, base + PAGE, PAGE, h, PAGE, RW),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    let l = b.immediate(c, 0);
    let data = pattern(PAGE, 9);
    assert_eq!(
        copy(&b, l, base, data.as_ptr() as usize, PAGE),
        ze_result_t::ZE_RESULT_SUCCESS
    );

    // The attribute query: per mapping, and NONE past the mapped pages.
    let (mut a, mut n) = (RW, 0usize);
    ok!(
        b,
        zeVirtualMemGetAccessAttribute(c, base as *const c_void, 4 * PAGE, &mut a, &mut n)
    );
    assert_eq!((a, n), (RW, 2 * PAGE));
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, PAGE, RO)
    );
    ok!(
        b,
        zeVirtualMemGetAccessAttribute(c, base as *const c_void, 4 * PAGE, &mut a, &mut n)
    );
    assert_eq!((a, n), (RO, PAGE));
    ok!(
        b,
        zeVirtualMemGetAccessAttribute(
            c,
            (base + 2 * PAGE) as *const c_void,
            2 * PAGE,
            &mut a,
            &mut n
        )
    );
    assert_eq!((a, n), (NONE, 2 * PAGE));
    fails!(
        ZE_RESULT_ERROR_INVALID_ENUMERATION,
        b,
        zeVirtualMemSetAccessAttribute(
            c,
            base as *const c_void,
            PAGE,
            ze_memory_access_attribute_t(7)
        )
    );
    fails!(
        ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
        b,
        zeVirtualMemSetAccessAttribute(c, (base + 8) as *const c_void, PAGE, RO)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeVirtualMemSetAccessAttribute(c, (base + 2 * PAGE) as *const c_void, PAGE, RO)
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_NULL_POINTER,
        b,
        zeVirtualMemGetAccessAttribute(c, base as *const c_void, PAGE, null_mut(), &mut n)
    );

    // READONLY: reads work, a copy or a fill into it fails, naming the address and attribute.
    let mut back = vec![0u8; PAGE];
    assert_eq!(
        copy(&b, l, back.as_mut_ptr() as usize, base, PAGE),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(back, data);
    let r = copy(&b, l, base + 64, data.as_ptr() as usize, 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    let e = last_error(&b);
    assert!(
        e.contains("READONLY") && e.contains(&format!("{:#x}", base + 64)),
        "{e}"
    );
    let v = [1u8];
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandListAppendMemoryFill(
            l,
            base as *mut c_void,
            v.as_ptr().cast(),
            1,
            8,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    // A copy across into the read-only mapping from the read-write one is refused too.
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, PAGE, RW)
    );
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, (base + PAGE) as *const c_void, PAGE, RO)
    );
    let r = copy(&b, l, base + PAGE - 8, data.as_ptr() as usize, 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);

    // Checked again when the command runs: recorded while writable, run once read-only.
    let q = b.queue(c, 0);
    let mut rl = b.list(c, 0);
    ok!(
        b,
        zeCommandListAppendMemoryCopy(
            rl,
            base as *mut c_void,
            data.as_ptr().cast(),
            16,
            NULL_EVENT,
            0,
            NO_WAITS
        )
    );
    ok!(b, zeCommandListClose(rl));
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, PAGE, RO)
    );
    ok!(
        b,
        zeCommandQueueExecuteCommandLists(q, 1, &mut rl, null_mut())
    );
    fails!(
        ZE_RESULT_ERROR_INVALID_ARGUMENT,
        b,
        zeCommandQueueSynchronize(q, u64::MAX)
    );
    assert!(
        b.sanitizer().is_clean(),
        "an access refusal is not a use after free"
    );

    // NONE: no access at all.
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, PAGE, NONE)
    );
    let r = copy(&b, l, back.as_mut_ptr() as usize, base, 16);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert!(last_error(&b).contains("ZE_MEMORY_ACCESS_ATTRIBUTE_NONE"));

    // Kernels: loads from a read-only mapping work; a store into it is the sanitizer's.
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, PAGE, RO)
    );
    let code = spv("out_of_bounds");
    let desc = ze_module_desc_t {
        format: ze_module_format_t::ZE_MODULE_FORMAT_IL_SPIRV,
        inputSize: code.len(),
        pInputModule: code.as_ptr(),
        ..Default::default()
    };
    let mut m = null_mut();
    ok!(
        b,
        zeModuleCreate(c, b.devices[0], &desc, &mut m, null_mut())
    );
    let out = b.alloc_device(c, 256, 0);
    let ptr = |p: usize| (p as u64).to_le_bytes();
    let (n, zero) = (64u32.to_le_bytes(), 0u32.to_le_bytes());
    let r = launch(
        &b,
        m,
        l,
        c"read_past_end",
        &[&ptr(base), &ptr(out as usize), &n, &zero],
        64,
    );
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    let mut got = vec![0u8; 256];
    assert_eq!(
        copy(&b, l, got.as_mut_ptr() as usize, out as usize, 256),
        ze_result_t::ZE_RESULT_SUCCESS
    );
    assert_eq!(&got[..], &data[..256]);
    assert!(b.sanitizer().is_clean());
    let r = launch(&b, m, l, c"write_past_end", &[&ptr(base), &n, &zero], 64);
    assert_eq!(r, ze_result_t::ZE_RESULT_ERROR_INVALID_ARGUMENT);
    assert!(last_error(&b).contains("read-only"), "{}", last_error(&b));
    assert_eq!(b.sanitizer().kernel_out_of_bounds_accesses, 1);
    // SAFETY: the page is mapped and readable.
    assert_eq!(
        unsafe { *(base as *const u8) },
        data[0],
        "the store did not happen"
    );
    // Writable again: the same kernel runs.
    ok!(
        b,
        zeVirtualMemSetAccessAttribute(c, base as *const c_void, 2 * PAGE, RW)
    );
    let r = launch(&b, m, l, c"write_past_end", &[&ptr(base), &n, &zero], 64);
    assert_eq!(r, ze_result_t::ZE_RESULT_SUCCESS);
    // SAFETY: as above.
    assert_eq!(unsafe { *(base as *const u32).add(5) }, 5);

    ok!(b, zeModuleDestroy(m));
    b.free(c, out);
    ok!(b, zeCommandListDestroy(rl));
    ok!(b, zeCommandQueueDestroy(q));
    ok!(b, zeCommandListDestroy(l));
    ok!(b, zeVirtualMemFree(c, base as *const c_void, 4 * PAGE));
    ok!(b, zePhysicalMemDestroy(c, h));
    ok!(b, zeContextDestroy(c));
    b.assert_no_leaks();
}
