//! The safe layer over a CPU driver with sub-devices (tiles): what `Device::sub_devices`,
//! `Device::root_device` and `Device::is_sub_device` give in each `ZE_FLAT_DEVICE_HIERARCHY`,
//! and the GPU-shaped queue groups.

use level_zero::QueueGroupFlags;
use level_zero::cpu::{Config, Hierarchy};

fn driver(hierarchy: Hierarchy, mask: Option<&str>) -> level_zero::Driver {
    let mut config = Config::default();
    config.subdevices = 2;
    config.hierarchy = hierarchy;
    config.affinity_mask = mask.map(String::from);
    level_zero::cpu::driver(config).unwrap()
}

#[test]
fn composite_devices_have_sub_devices_whose_root_is_the_card() {
    let d = driver(Hierarchy::Composite, None);
    let cards = d.devices().unwrap();
    assert_eq!(cards.len(), 2);
    for card in &cards {
        assert!(!card.is_sub_device().unwrap());
        assert!(card.root_device().unwrap().is_none());
        let tiles = card.sub_devices().unwrap();
        assert_eq!(tiles.len(), 2);
        for (i, t) in tiles.iter().enumerate() {
            assert!(t.is_sub_device().unwrap());
            assert_eq!(t.properties().unwrap().subdevice_id, i as u32);
            let root = t.root_device().unwrap().expect("a sub-device has a root");
            assert_eq!(
                root.properties().unwrap().uuid,
                card.properties().unwrap().uuid
            );
            assert!(t.sub_devices().unwrap().is_empty());
        }
    }
}

#[test]
fn flat_tiles_are_root_devices_and_an_affinity_mask_hides_them() {
    let d = driver(Hierarchy::Flat, None);
    let tiles = d.devices().unwrap();
    assert_eq!(tiles.len(), 4);
    for t in &tiles {
        assert!(!t.is_sub_device().unwrap());
        assert!(t.sub_devices().unwrap().is_empty());
    }
    let d = driver(Hierarchy::Flat, Some("0"));
    assert_eq!(d.devices().unwrap().len(), 1);
}

#[test]
fn combined_tiles_lead_to_their_card() {
    let d = driver(Hierarchy::Combined, None);
    let tiles = d.devices().unwrap();
    assert_eq!(tiles.len(), 4);
    let card = tiles[0].root_device().unwrap().expect("a tile's card");
    assert!(!card.is_sub_device().unwrap());
    assert_eq!(card.sub_devices().unwrap().len(), 2);
}

#[test]
fn queue_groups_are_shaped_like_a_gpu() {
    let d = level_zero::cpu::driver(Config::default()).unwrap();
    let dev = &d.devices().unwrap()[0];
    let groups = dev.queue_groups().unwrap();
    assert_eq!(groups.len(), 3);
    assert!(groups[0].flags.contains(
        QueueGroupFlags::COMPUTE | QueueGroupFlags::COPY | QueueGroupFlags::COOPERATIVE_KERNELS
    ));
    // The safe layer's copy group is the main copy engine.
    let copy = dev.copy_queue_group().unwrap();
    assert_eq!((copy.ordinal, copy.num_queues), (1, 1));
    assert_eq!(groups[2].flags, QueueGroupFlags::COPY);
    assert!(groups[2].num_queues > 1);
}
