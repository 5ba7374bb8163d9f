//! Property queries: complete, owned, and never crashing on a driver that lacks something.

mod common;

use common::TestDriver;
use level_zero::{
    DefaultReason, DeviceType, Error, Provenance, QueueGroupFlags, Runtime, VectorWidth,
};

#[test]
fn driver_properties_and_extensions() {
    let t = TestDriver::new();
    let d = &t.driver;
    let p = d.properties().unwrap();
    assert_eq!(p, d.properties().unwrap(), "stable");
    assert_ne!(p.uuid, level_zero::Uuid::default());
    let v = d.api_version().unwrap();
    assert_eq!(v.major, 1);
    assert!(v.minor >= 4, "{v}");
    let exts = d.extensions().unwrap();
    assert!(
        exts.iter()
            .any(|e| e.name == "ZE_extension_device_vector_sizes")
    );
    assert!(d.has_extension("ZE_experimental_relaxed_allocation_limits"));
    assert!(!d.has_extension("ZE_no_such_extension"));
    assert_eq!(
        d.extension("ZE_extension_device_vector_sizes")
            .unwrap()
            .version,
        level_zero::Version { major: 1, minor: 0 }
    );
    d.ipc_flags().unwrap();
}

#[test]
fn device_properties_are_complete_and_consistent() {
    let t = TestDriver::new();
    let devs = t.devices();
    assert_eq!(devs.len(), 2);
    let (a, b) = (&devs[0], &devs[1]);
    let p = a.properties().unwrap();
    assert_eq!(p.device_type, DeviceType::Cpu);
    assert!(p.name.contains("level-zero-cpu"), "{}", p.name);
    assert!(p.max_mem_alloc_size > 0);
    assert_ne!(p.uuid, b.properties().unwrap().uuid);
    assert!(p.is_discrete());

    let c = a.compute_properties().unwrap();
    assert!(c.max_total_group_size >= 64);
    assert!(c.max_group_size.iter().all(|&s| s >= 1));
    assert!(!c.sub_group_sizes.is_empty());

    let m = a.module_properties().unwrap();
    assert!(m.spirv_version >= level_zero::Version { major: 1, minor: 0 });

    let groups = a.queue_groups().unwrap();
    assert!(
        groups
            .iter()
            .any(|g| g.flags.contains(QueueGroupFlags::COMPUTE))
    );
    assert!(
        groups
            .iter()
            .enumerate()
            .all(|(i, g)| g.ordinal == i as u32 && g.num_queues >= 1)
    );
    let copy = a.copy_queue_group().unwrap();
    assert!(copy.flags.contains(QueueGroupFlags::COPY));
    assert!(
        !copy.flags.contains(QueueGroupFlags::COMPUTE),
        "a dedicated copy group exists"
    );

    let mem = a.memory_properties().unwrap();
    assert!(!mem.is_empty() && mem[0].total_size > 0);
    assert_eq!(
        a.total_memory().unwrap(),
        mem.iter().map(|m| m.total_size).sum::<u64>()
    );
    let access = a.memory_access_properties().unwrap();
    assert!(access.device.contains(level_zero::MemoryAccessCaps::RW));
    assert!(!a.cache_properties().unwrap().is_empty());
    // Images exist as memory objects (with copies) and kernel arguments.
    let images = a.image_properties().unwrap();
    assert!(images.supported());
    assert_eq!(
        (images.max_read_image_args, images.max_write_image_args),
        (128, 128)
    );
    a.external_memory_properties().unwrap();
    assert!(matches!(a.pci_properties(), Err(Error::Unsupported { .. })));

    assert!(a.can_access_peer(b).unwrap());
    assert!(a.p2p_properties(b).unwrap().access);
    assert!(a.sub_devices().unwrap().is_empty());
    a.status().unwrap();
    // The IP-version extension is not advertised: a marked default.
    let ip = a.ip_version().unwrap();
    assert_eq!(ip.version, 0);
    assert!(matches!(
        ip.provenance,
        Provenance::Defaulted(DefaultReason::ExtensionNotAdvertised(_))
    ));
}

#[test]
fn vector_widths_come_from_the_driver_when_it_can_give_them() {
    let t = TestDriver::new();
    let vw = t.device().vector_widths();
    assert_eq!(vw.provenance, Provenance::Reported);
    assert!(!vw.entries.is_empty());
    // An AVX2-class CPU: eight floats per vector.
    assert!(vw.entries.iter().any(|e| e.preferred[4] == 8), "{vw:?}");
}

#[test]
fn vector_widths_default_when_the_extension_is_not_advertised() {
    let Some(t) = TestDriver::with(|c| {
        c.hidden_extensions = vec!["ZE_extension_device_vector_sizes".into()];
    }) else {
        return;
    };
    let vw = t.device().vector_widths();
    assert_eq!(vw.entries, vec![VectorWidth::DEFAULT]);
    assert_eq!(
        vw.provenance,
        Provenance::Defaulted(DefaultReason::ExtensionNotAdvertised(
            "ZE_extension_device_vector_sizes"
        ))
    );
}

#[test]
fn vector_widths_default_when_the_advertised_function_is_null() {
    // The driver bug our users hit: the extension is advertised, but
    // zeDriverGetExtensionFunctionAddress hands back NULL. Calling it would crash.
    let Some(t) = TestDriver::with(|c| {
        c.null_extension_functions = vec!["zeDeviceGetVectorWidthPropertiesExt".into()];
    }) else {
        return;
    };
    assert!(t.driver.has_extension("ZE_extension_device_vector_sizes"));
    let vw = t.device().vector_widths();
    assert_eq!(vw.entries, vec![VectorWidth::DEFAULT]);
    match &vw.provenance {
        Provenance::Defaulted(DefaultReason::FunctionUnavailable { function, .. }) => {
            assert_eq!(*function, "zeDeviceGetVectorWidthPropertiesExt");
        }
        other => panic!("expected a defaulted value for a NULL function, got {other:?}"),
    }
    assert!(vw.provenance.is_default());
}

#[test]
fn a_function_missing_from_the_table_is_an_error_naming_it() {
    if common::system_backend() {
        eprintln!("SKIPPED on the system backend: builds its own table");
        return;
    }
    // SAFETY: the CPU driver's getters honour the DDI contract.
    let (mut api, _) = unsafe { level_zero::sys::Api::from_ddi(&level_zero_cpu::ddi_getters()) };
    api.zeDeviceGetMemoryProperties = None;
    api.zeDeviceGetCommandQueueGroupProperties = None;
    // SAFETY: the remaining pointers are the CPU driver's static functions.
    let rt = unsafe { Runtime::from_api(api) }.unwrap();
    assert_eq!(rt.backend(), &level_zero::BackendKind::Custom);
    let dev = &rt.drivers()[0].devices().unwrap()[0];
    // What the table has still works...
    assert!(!dev.properties().unwrap().name.is_empty());
    // ...and what it lacks is an error naming the function, not a crash.
    let err = dev.memory_properties().unwrap_err();
    assert!(
        matches!(&err, Error::MissingFunction(m) if m.name == "zeDeviceGetMemoryProperties"),
        "{err}"
    );
    let err = level_zero::ImmediateCommandList::compute(
        &level_zero::Context::new(&rt.drivers()[0]).unwrap(),
        dev,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("zeDeviceGetCommandQueueGroupProperties"),
        "{err}"
    );
}

#[test]
fn a_driver_with_more_devices() {
    let Some(t) = TestDriver::with(|c| c.devices = 4) else {
        return;
    };
    let devs = t.devices();
    assert_eq!(devs.len(), 4);
    let uuids: std::collections::HashSet<_> =
        devs.iter().map(|d| d.properties().unwrap().uuid).collect();
    assert_eq!(uuids.len(), 4);
    // Enumeration order is stable.
    assert_eq!(t.devices(), devs);
}
