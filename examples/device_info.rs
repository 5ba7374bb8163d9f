//! A `clinfo` for Level Zero: every driver and device with all their properties.
//!
//! ```sh
//! cargo run --release --example device_info
//! LEVEL_ZERO_BACKEND=system cargo run --example device_info   # only the system loader
//! ```
//!
//! Vector widths say whether the driver reported them or they are this crate's defaults,
//! and why (a driver that advertises `ZE_extension_device_vector_sizes` but returns a NULL
//! function is the case that crashed runtimes which called it anyway).

use level_zero::{Device, Driver, Provenance, Runtime};

fn main() -> Result<(), level_zero::Error> {
    let rt = Runtime::init()?;
    println!("backend: {}", rt.backend());
    print_loader_components(&rt);
    let drivers = rt.drivers();
    println!("drivers: {}", drivers.len());
    for (i, driver) in drivers.iter().enumerate() {
        print_driver(i, driver)?;
    }
    Ok(())
}

/// The system loader's components and their versions (`zelLoaderGetVersions`: the loader and
/// the layers it loaded), on a loader that has the function.
fn print_loader_components(rt: &Runtime) {
    use level_zero::sys::{ze_result_t, zel_component_version_t};
    let api = rt.api();
    let mut count = 0usize;
    // SAFETY: a count query: the array pointer may be null.
    match unsafe { api.zelLoaderGetVersions(&mut count, std::ptr::null_mut()) } {
        Ok(ze_result_t::ZE_RESULT_SUCCESS) => {}
        Ok(r) => return println!("loader components: zelLoaderGetVersions returned {r}"),
        // The embedded driver, or a loader without the function.
        Err(_) => return,
    }
    let mut components = vec![zel_component_version_t::default(); count];
    // SAFETY: `components` holds `count` elements, the number the call is given.
    let r = unsafe { api.zelLoaderGetVersions(&mut count, components.as_mut_ptr()) };
    if r != Ok(ze_result_t::ZE_RESULT_SUCCESS) {
        return println!("loader components: zelLoaderGetVersions returned {r:?}");
    }
    components.truncate(count);
    for c in &components {
        let name: String = c
            .component_name
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| b as u8 as char)
            .collect();
        let v = c.component_lib_version;
        let spec = c.spec_version.0;
        println!(
            "loader component: {name} {}.{}.{} (API {}.{})",
            v.major,
            v.minor,
            v.patch,
            spec >> 16,
            spec & 0xffff
        );
    }
}

fn print_driver(i: usize, driver: &Driver) -> Result<(), level_zero::Error> {
    let p = driver.properties()?;
    println!("\ndriver {i}");
    println!("  uuid                  {}", p.uuid);
    println!("  driver version        {:#x}", p.driver_version);
    println!("  API version           {}", driver.api_version()?);
    println!("  IPC                   {:?}", driver.ipc_flags()?);
    let exts = driver.extensions()?;
    println!("  extensions            {}", exts.len());
    for e in exts {
        println!("    {:<50} {}", e.name, e.version);
    }
    let devices = driver.devices()?;
    for (j, d) in devices.iter().enumerate() {
        print_device(&format!("{i}.{j}"), d, &devices)?;
    }
    Ok(())
}

fn provenance(p: &Provenance) -> String {
    match p {
        Provenance::Reported => "reported by the driver".into(),
        Provenance::Defaulted(why) => format!("DEFAULT ({why})"),
    }
}

fn print_device(id: &str, d: &Device, peers: &[Device]) -> Result<(), level_zero::Error> {
    let p = d.properties()?;
    println!("\n  device {id}: {}", p.name);
    println!("    type                {:?}", p.device_type);
    println!(
        "    vendor / device id  {:#06x} / {:#06x}",
        p.vendor_id, p.device_id
    );
    println!("    uuid                {}", p.uuid);
    println!(
        "    flags               {:?} ({})",
        p.flags,
        if p.is_discrete() {
            "discrete"
        } else {
            "integrated"
        }
    );
    println!("    core clock          {} MHz", p.core_clock_rate);
    println!("    max alloc size      {} bytes", p.max_mem_alloc_size);
    println!(
        "    EUs                 {} ({} slices x {} sub-slices x {} EUs, {} threads/EU, SIMD {})",
        p.num_eus(),
        p.num_slices,
        p.num_subslices_per_slice,
        p.num_eus_per_subslice,
        p.num_threads_per_eu,
        p.physical_eu_simd_width
    );
    println!(
        "    timers              resolution {}, {} valid bits, kernel {} valid bits",
        p.timer_resolution, p.timestamp_valid_bits, p.kernel_timestamp_valid_bits
    );
    let ip = d.ip_version()?;
    println!(
        "    IP version          {:#x} ({})",
        ip.version,
        provenance(&ip.provenance)
    );

    let c = d.compute_properties()?;
    println!(
        "    compute             max group {} ({:?}), max count {:?}, local memory {} bytes, sub-groups {:?}",
        c.max_total_group_size,
        c.max_group_size,
        c.max_group_count,
        c.max_shared_local_memory,
        c.sub_group_sizes
    );
    let m = d.module_properties()?;
    println!(
        "    modules             SPIR-V {}, {:?}, max args {} bytes, printf buffer {} bytes",
        m.spirv_version, m.flags, m.max_argument_size, m.printf_buffer_size
    );
    println!("      fp16              {:?}", m.fp16);
    println!("      fp32              {:?}", m.fp32);
    println!("      fp64              {:?}", m.fp64);

    let vw = d.vector_widths();
    println!("    vector widths       {}", provenance(&vw.provenance));
    for w in &vw.entries {
        println!(
            "      size {:>3}: preferred char/short/int/long/float/double/half {:?}, native {:?}",
            w.vector_width_size, w.preferred, w.native
        );
    }

    for (k, g) in d.queue_groups()?.iter().enumerate() {
        println!(
            "    queue group {k}       {:?}, {} queue(s), fill pattern up to {} bytes",
            g.flags, g.num_queues, g.max_memory_fill_pattern_size
        );
    }
    for mem in d.memory_properties()? {
        print!(
            "    memory              {} bytes \"{}\", {} MHz, {}-bit bus",
            mem.total_size, mem.name, mem.max_clock_rate, mem.max_bus_width
        );
        match mem.ext {
            Some(e) => println!(
                ", {} physical {} bytes, read/write {}/{} {}",
                e.kind, e.physical_size, e.read_bandwidth, e.write_bandwidth, e.bandwidth_unit
            ),
            None => println!(),
        }
    }
    let a = d.memory_access_properties()?;
    println!(
        "    memory access       host {:?}; device {:?}; shared {:?}; cross-device {:?}; system {:?}",
        a.host, a.device, a.shared_single_device, a.shared_cross_device, a.shared_system
    );
    for cache in d.cache_properties()? {
        println!(
            "    cache               {} bytes{}",
            cache.size,
            if cache.user_control {
                ", user-controlled"
            } else {
                ""
            }
        );
    }
    let img = d.image_properties()?;
    if img.supported() {
        println!(
            "    images              1D {}, 2D {}, 3D {}, {} samplers",
            img.max_dims_1d, img.max_dims_2d, img.max_dims_3d, img.max_samplers
        );
    } else {
        println!("    images              not supported");
    }
    let ext = d.external_memory_properties()?;
    println!(
        "    external memory     import {:?}, export {:?}",
        ext.allocation_import, ext.allocation_export
    );
    match d.pci_properties() {
        Ok(pci) => println!(
            "    PCI                 {:04x}:{:02x}:{:02x}.{} gen {} x{}",
            pci.domain, pci.bus, pci.device, pci.function, pci.max_gen, pci.max_width
        ),
        Err(e) => println!("    PCI                 {e}"),
    }
    for peer in peers.iter().filter(|q| *q != d) {
        let pp = d.p2p_properties(peer)?;
        println!(
            "    peer {:<14} access {}, atomics {}, can_access_peer {}",
            peer.name()?,
            pp.access,
            pp.atomics,
            d.can_access_peer(peer)?
        );
    }
    let subs = d.sub_devices()?;
    println!("    sub-devices         {}", subs.len());
    match d.status() {
        Ok(()) => println!("    status              ok"),
        Err(e) => println!("    status              {e}"),
    }
    Ok(())
}
