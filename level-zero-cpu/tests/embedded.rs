//! Every scenario on the embedded driver (`Api::from_ddi(&ddi_getters())`), each on its own
//! driver instance, checking afterwards that nothing leaked.

// `ze!` evaluates its arguments inside its unsafe block on purpose (see tests/common).
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

macro_rules! embedded {
    ($($name:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            common::run_embedded(stringify!($name));
        })*

        #[test]
        fn every_scenario_runs_embedded() {
            let listed = [$(stringify!($name)),*];
            for s in common::scenarios::ALL {
                assert!(listed.contains(&s.name), "{} has no embedded test", s.name);
            }
        }
    };
}

embedded! {
    driver_properties,
    device_properties,
    queue_group_and_peer_properties,
    vector_width_extension,
    extension_lookup_errors,
    bad_handles,
    allocations,
    allocation_limits,
    copies_every_direction,
    copy_range_checks,
    copy_region,
    fills,
    immediate_lists,
    queues_and_lists,
    events,
    event_timeouts_and_cross_thread_signal,
    kernel_timestamps,
    fences,
    residency,
    modules_with_the_stub_engine,
    fault_alloc_failure,
    fault_device_lost,
    fault_module_build,
    fault_null_extension_function,
    hidden_extension,
    p2p_off,
    three_devices,
    concurrent_threads,
    affinity_mask_hides_devices,
    flat_hierarchy_tiles_are_root_devices,
    composite_hierarchy_sub_devices,
    composite_affinity_mask_picks_tiles,
    combined_hierarchy_tiles_with_root_devices,
    simple_queue_groups,
    images_of_every_type,
    image_formats_and_properties,
    image_descriptors_refused,
    image_copies_round_trip,
    image_copy_checks,
    image_destroyed_with_copies_pending,
    samplers,
    module_dynamic_link,
    null_by_value_kernel_argument,
    advertised_extensions_are_exactly_the_implemented_ones,
    kernel_source_attributes_and_function_pointers,
    native_module_binaries,
    query_kernel_timestamps_and_copy_from_context,
    immediate_append_and_atomic_attributes,
    graph_capture_and_replay,
    graph_fork_and_join,
    graph_capture_refusals,
    graph_engines_devices_and_freed_memory,
    copy_region_zero_extents,
    flags_and_enumerations,
    objects_in_use,
    in_order_lists_need_no_events,
    emulated_api_version,
}
