//! Devices: their topology, properties, status, timestamps, peers, and the vector-sizes
//! extension.
//!
//! Each device simulates a discrete accelerator backed by host memory: its own memory
//! capacity and accounting, compute and copy engine groups, and P2P access to the other
//! devices of its driver (unless configured off).
//!
//! # Topology
//!
//! The driver has `Config::devices` cards. With `Config::subdevices` = S ≥ 2, each card has S
//! tiles, and what a client sees follows Intel's driver ([`Topology::build`]):
//!
//! - `FLAT` (the default): every tile is a root device; no device has sub-devices.
//! - `COMPOSITE`: every card is a root device whose sub-devices are its tiles (properties
//!   with `ZE_DEVICE_PROPERTY_FLAG_SUBDEVICE` and `subdeviceId`; `zeDeviceGetRootDevice`
//!   gives the card).
//! - `COMBINED`: `zeDeviceGet` lists the tiles (as in `FLAT`), but each is a sub-device of its
//!   card, reached with `zeDeviceGetRootDevice` (the card's `zeDeviceGetSubDevices` lists the
//!   tiles). The card is a full device: contexts, queues and allocations work on it.
//!
//! `ZE_AFFINITY_MASK` then hides devices: in `FLAT` and `COMBINED` its entries index the
//! devices `zeDeviceGet` would list without a mask; in `COMPOSITE` an entry is a card (`1`) or
//! a tile (`1.0`). A card with exactly one visible tile is that tile, shown as a root device
//! with no sub-devices (as Intel's driver does). Visible devices keep their order (card, then
//! tile), whatever the order of the mask.
//!
//! Memory: a card has `Config::device_memory` bytes, each tile an S-th of it. An allocation on
//! a sub-device counts against the sub-device and against its card; one on the card counts
//! against the card only (it may use any tile's memory). A tile shown as a root device
//! (`FLAT`, or a lone tile) has its own S-th. P2P: devices of one card always reach each
//! other's memory (it is the same memory); across cards, `Config::p2p` decides. Queues,
//! lists, residency and device loss are per device handle: a sub-device has its own
//! engines, like a tile.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use level_zero_sys::*;

use crate::config::{Config, DeviceType, Hierarchy, QueueGroups};
use crate::ffi::{self, ZeResult, bail, entry_points};
use crate::handles::{self, DeviceRef};
use crate::sync::{lock, now_ns};

/// The largest fill pattern, in bytes.
pub(crate) const MAX_FILL_PATTERN: usize = 128;
/// Work-group limits.
pub(crate) const MAX_GROUP_SIZE: [u32; 3] = [1024, 1024, 1024];
/// Work-items per work-group, at most.
pub(crate) const MAX_TOTAL_GROUP_SIZE: u32 = 1024;
/// Local memory per work-group.
const MAX_SHARED_LOCAL_MEMORY: u32 = 64 << 10;

/// One device's state.
pub(crate) struct Device {
    pub(crate) handle: u64,
    pub(crate) uuid: [u8; 16],
    /// Set once the device is lost; never cleared.
    pub(crate) lost: AtomicBool,
    /// Submissions received so far (for `device_lost_after`).
    pub(crate) submissions: AtomicU64,
    /// Jobs of this device running their commands (started while the device was not lost).
    /// Changed only inside the instance's `Signal::notify` and read only inside its
    /// `Signal::wait` (see [`DeviceRef::begin_job`]), so that a waiter that sees it at zero on
    /// a lost device knows that no command of the device touches memory any more.
    jobs_in_flight: AtomicU64,
    /// Jobs of this device accepted and not yet over (queued or running). Changed only
    /// inside the instance's `Signal::notify`: a waiter that sees it at zero on a device that
    /// is not lost knows that nothing submitted to the device will signal an event any more.
    jobs_pending: AtomicU64,
    /// Memory made resident on this device: base address -> size.
    pub(crate) resident: Mutex<HashMap<usize, usize>>,
    pub(crate) make_resident_calls: AtomicU64,
    pub(crate) evict_calls: AtomicU64,
    /// The handle of the device's one sysman memory module, made on first enumeration.
    pub(crate) sysman_memory: std::sync::OnceLock<u64>,
    /// Where the device sits in the topology.
    pub(crate) place: Place,
    /// The first execution failure of the device's work since the last `zeDeviceSynchronize`
    /// (code and description), which that call returns.
    failure: Mutex<Option<(ze_result_t, String)>>,
}

/// Where a device sits in the topology (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Place {
    /// The card it is, or is part of.
    pub(crate) card: usize,
    /// The tile of the card it is; `None` for a whole card.
    pub(crate) tile: Option<u32>,
    /// Whether it reports itself as a sub-device (`ZE_DEVICE_PROPERTY_FLAG_SUBDEVICE`).
    pub(crate) subdevice: bool,
    /// What `zeDeviceGetRootDevice` gives: an index into the instance's devices.
    pub(crate) root: Option<usize>,
    /// What `zeDeviceGetSubDevices` gives: indices into the instance's devices.
    pub(crate) subdevices: Vec<usize>,
    /// Its memory, in bytes.
    pub(crate) capacity: u64,
}

/// The devices of an instance and which of them `zeDeviceGet` lists.
pub(crate) struct Topology {
    /// Every device with a handle: the listed ones, their sub-devices and (`COMBINED`) cards.
    pub(crate) devices: Vec<Device>,
    /// What `zeDeviceGet` lists, in order: indices into `devices`.
    pub(crate) listed: Vec<usize>,
    /// Affinity-mask entries that name no device (reported and ignored).
    pub(crate) errors: Vec<String>,
}

/// What the affinity mask keeps of one card.
#[derive(Clone, Debug, PartialEq)]
enum Pick {
    Whole,
    Tiles(std::collections::BTreeSet<u32>),
}

impl Topology {
    /// The devices of an instance configured with `config` (its `devices` already clamped).
    pub(crate) fn build(config: &Config, instance_number: u32) -> Topology {
        let cards = config.devices as usize;
        let tiles = config.subdevices;
        let (picks, errors) = parse_affinity_mask(config, cards);
        let mut places: Vec<Place> = Vec::new();
        let mut listed = Vec::new();
        let tile_memory = config.device_memory / u64::from(tiles.max(1));
        for (card, pick) in picks.into_iter().enumerate() {
            let Some(pick) = pick else { continue };
            if tiles < 2 {
                listed.push(places.len());
                places.push(Place {
                    card,
                    capacity: config.device_memory,
                    ..Place::default()
                });
                continue;
            }
            let chosen: Vec<u32> = match pick {
                Pick::Whole => (0..tiles).collect(),
                Pick::Tiles(set) => set.into_iter().collect(),
            };
            let plain = |tile: u32| Place {
                card,
                tile: Some(tile),
                capacity: tile_memory,
                ..Place::default()
            };
            if chosen.len() == 1 || config.hierarchy == Hierarchy::Flat {
                for &tile in &chosen {
                    listed.push(places.len());
                    places.push(plain(tile));
                }
                continue;
            }
            let root = places.len();
            places.push(Place {
                card,
                capacity: config.device_memory,
                ..Place::default()
            });
            let first = places.len();
            for &tile in &chosen {
                places.push(Place {
                    subdevice: true,
                    root: Some(root),
                    ..plain(tile)
                });
            }
            places[root].subdevices = (first..places.len()).collect();
            match config.hierarchy {
                Hierarchy::Composite => listed.push(root),
                _ => listed.extend(first..places.len()),
            }
        }
        let devices = places
            .into_iter()
            .map(|place| Device::new(instance_number, place))
            .collect();
        Topology {
            devices,
            listed,
            errors,
        }
    }
}

/// Reads the affinity mask: for each card, what is visible of it (`None`: nothing).
fn parse_affinity_mask(config: &Config, cards: usize) -> (Vec<Option<Pick>>, Vec<String>) {
    let mask = config.affinity_mask.as_deref().map(str::trim).unwrap_or("");
    if mask.is_empty() {
        return (vec![Some(Pick::Whole); cards], Vec::new());
    }
    let tiles = config.subdevices;
    let composite = config.hierarchy == Hierarchy::Composite;
    let mut picks: Vec<Option<Pick>> = vec![None; cards];
    let mut errors = Vec::new();
    let mut add = |card: usize, tile: Option<u32>| match (&mut picks[card], tile) {
        (slot, None) => *slot = Some(Pick::Whole),
        (Some(Pick::Whole), Some(_)) => {}
        (Some(Pick::Tiles(set)), Some(t)) => {
            set.insert(t);
        }
        (slot @ None, Some(t)) => *slot = Some(Pick::Tiles([t].into())),
    };
    for entry in mask.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parts: Vec<&str> = entry.split('.').collect();
        let numbers: Option<Vec<usize>> = parts.iter().map(|p| p.parse().ok()).collect();
        let problem = match numbers.as_deref() {
            None => Some("not a number".to_string()),
            Some(&[k]) if tiles >= 2 && !composite => {
                let per_card = tiles as usize;
                if k < cards * per_card {
                    add(k / per_card, Some((k % per_card) as u32));
                    None
                } else {
                    Some(format!("there are {} devices", cards * per_card))
                }
            }
            Some(&[card]) => {
                if card < cards {
                    add(card, None);
                    None
                } else {
                    Some(format!("there are {cards} devices"))
                }
            }
            Some(&[card, tile]) if tiles >= 2 && composite => {
                if card >= cards {
                    Some(format!("there are {cards} devices"))
                } else if tile >= tiles as usize {
                    Some(format!("each device has {tiles} sub-devices"))
                } else {
                    add(card, Some(tile as u32));
                    None
                }
            }
            Some(&[_, _]) if tiles < 2 => Some("the devices have no sub-devices".into()),
            Some(&[_, _]) => Some(
                "device.sub-device entries are read only with ZE_FLAT_DEVICE_HIERARCHY=COMPOSITE"
                    .into(),
            ),
            Some(_) => Some("expected a device or device.sub-device".into()),
        };
        if let Some(why) = problem {
            errors.push(format!(
                "ZE_AFFINITY_MASK entry {entry:?} names no device ({why}); ignored"
            ));
        }
    }
    (picks, errors)
}

impl Device {
    pub(crate) fn new(instance_number: u32, place: Place) -> Device {
        let mut uuid = *b"l0cpu-device\0\0\0\0";
        uuid[12..14].copy_from_slice(&(instance_number as u16).to_le_bytes());
        uuid[14] = place.card as u8;
        uuid[15] = place.tile.map_or(0, |t| t as u8 + 1);
        Device {
            place,
            handle: handles::reserve_for::<DeviceRef>(),
            uuid,
            lost: AtomicBool::new(false),
            submissions: AtomicU64::new(0),
            jobs_in_flight: AtomicU64::new(0),
            jobs_pending: AtomicU64::new(0),
            resident: Mutex::new(HashMap::new()),
            make_resident_calls: AtomicU64::new(0),
            evict_calls: AtomicU64::new(0),
            sysman_memory: std::sync::OnceLock::new(),
            failure: Mutex::new(None),
        }
    }
}

impl DeviceRef {
    /// This device's state.
    pub(crate) fn state(&self) -> &'static Device {
        &self.instance.devices[self.index]
    }

    /// The device handle.
    pub(crate) fn raw(&self) -> ze_device_handle_t {
        handles::raw(self.state().handle)
    }

    /// Whether the device is lost.
    pub(crate) fn is_lost(&self) -> bool {
        self.state().lost.load(Ordering::Acquire)
    }

    /// `ZE_RESULT_ERROR_DEVICE_LOST` if the device is lost.
    pub(crate) fn check_alive(&self) -> ZeResult {
        if self.is_lost() {
            bail!(
                ZE_RESULT_ERROR_DEVICE_LOST,
                "device {} is lost (fault injected by LEVEL_ZERO_CPU_DEVICE_LOST_AFTER)",
                self.index
            );
        }
        Ok(())
    }

    /// Marks the device lost and wakes every waiter of the instance.
    pub(crate) fn mark_lost(&self) {
        self.instance
            .signal
            .notify(|| self.state().lost.store(true, Ordering::Release));
    }

    /// Counts one more job running its commands, unless the device is lost (`false`,
    /// nothing counted: the job must then run none of its commands).
    ///
    /// Must run inside the instance's `Signal::notify`, like [`DeviceRef::mark_lost`] and
    /// [`DeviceRef::end_job`]. The check and the count are then one step with respect to the
    /// loss and to every waiter: a job counted here started while the device was not lost,
    /// and a job refused here never runs a command. So a waiter that sees the device lost with
    /// no job running ([`DeviceRef::lost_and_quiescent`]) knows that no command of the device
    /// touches memory, now or later. A running job runs no further command once it sees the
    /// device lost, so the count drops quickly after a loss. (Jobs only queued are not
    /// counted: one that was not started before the loss never runs a command, so it cannot
    /// hold the loss back, even when a worker before it waits for an event forever.)
    pub(crate) fn begin_job(&self) -> bool {
        if self.is_lost() {
            return false;
        }
        self.state().jobs_in_flight.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Uncounts a job counted by [`DeviceRef::begin_job`]: it finished or stopped, and touches
    /// no memory any more. Inside the instance's `Signal::notify`.
    pub(crate) fn end_job(&self) {
        let previous = self.state().jobs_in_flight.fetch_sub(1, Ordering::Relaxed);
        debug_assert!(previous > 0, "a job ended that was never counted");
    }

    /// Counts a job accepted for this device (queued or run inline). Inside the instance's
    /// `Signal::notify`.
    pub(crate) fn accept_job(&self) {
        self.state().jobs_pending.fetch_add(1, Ordering::Relaxed);
    }

    /// Uncounts a job counted by [`DeviceRef::accept_job`]: it completed, stopped, or was
    /// dropped. Inside the instance's `Signal::notify`.
    pub(crate) fn retire_job(&self) {
        let previous = self.state().jobs_pending.fetch_sub(1, Ordering::Relaxed);
        debug_assert!(previous > 0, "a job retired that was never accepted");
    }

    /// Whether nothing submitted to this device is queued or running any more: nothing it
    /// was given will signal an event. Read under the instance's signal mutex.
    pub(crate) fn idle(&self) -> bool {
        self.state().jobs_pending.load(Ordering::Relaxed) == 0
    }

    /// Whether no job of the device is running its commands. Read under the instance's
    /// signal mutex (inside `Signal::wait` or `Signal::notify`).
    pub(crate) fn quiescent(&self) -> bool {
        self.state().jobs_in_flight.load(Ordering::Relaxed) == 0
    }

    /// Whether the device is lost and no job of it may still touch memory: the only state in
    /// which a wait or query of its work may report `ZE_RESULT_ERROR_DEVICE_LOST`. Read under
    /// the instance's signal mutex.
    pub(crate) fn lost_and_quiescent(&self) -> bool {
        self.is_lost() && self.quiescent()
    }

    /// Records an execution failure of the device's work for `zeDeviceSynchronize` (the first
    /// one since that call last reported).
    pub(crate) fn record_failure(&self, code: ze_result_t, message: &str) {
        lock(&self.state().failure).get_or_insert_with(|| (code, message.to_string()));
    }

    /// This device and its sub-devices (`zeDeviceGetSubDevices`): the engines
    /// `zeDeviceSynchronize` waits for.
    fn with_subdevices(&self) -> Vec<DeviceRef> {
        std::iter::once(self.index)
            .chain(self.state().place.subdevices.iter().copied())
            .map(|index| DeviceRef {
                instance: self.instance,
                index,
            })
            .collect()
    }

    /// Counts one submission; `true` when this submission is the one that loses the device.
    pub(crate) fn count_submission(&self) -> bool {
        let n = self.state().submissions.fetch_add(1, Ordering::AcqRel);
        self.instance
            .config
            .device_lost_after
            .is_some_and(|after| n >= after)
    }

    /// Whether this device can access `peer`'s memory: always on the same card, else when P2P
    /// is configured on.
    pub(crate) fn can_access(&self, peer: usize) -> bool {
        can_reach(self.instance, self.index, peer)
    }

    /// The memory accounts an allocation on this device counts against, with their
    /// capacities: the device's own, then (for a sub-device) its root's.
    pub(crate) fn memory_accounts(&self) -> Vec<(usize, u64)> {
        let place = &self.state().place;
        let mut accounts = vec![(self.index, place.capacity)];
        if let Some(root) = place.root {
            accounts.push((root, self.instance.devices[root].place.capacity));
        }
        accounts
    }

    fn name(&self) -> String {
        let place = &self.state().place;
        match place.tile {
            Some(tile) => format!(
                "level-zero-cpu device {}.{tile} ({})",
                place.card,
                host_cpu_name()
            ),
            None => format!("level-zero-cpu device {} ({})", place.card, host_cpu_name()),
        }
    }
}

/// Whether device `from` of `instance` can access the memory of device `to`: always on the
/// same card, else when P2P is configured on.
pub(crate) fn can_reach(instance: &crate::driver::Instance, from: usize, to: usize) -> bool {
    let card = |i: usize| instance.devices.get(i).map(|d| d.place.card);
    card(from) == card(to) || instance.config.p2p
}

/// The host CPU's model name, for honest device names.
fn host_cpu_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{} CPU", std::env::consts::ARCH))
    })
}

/// Hardware threads of the host: the device's compute units.
pub(crate) fn host_threads() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
}

/// The host's last-level cache size, or 8 MiB when unknown.
fn cache_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        (0..5)
            .rev()
            .find_map(|i| {
                let p = format!("/sys/devices/system/cpu/cpu0/cache/index{i}/size");
                let text = std::fs::read_to_string(p).ok()?;
                crate::config::parse_size(text.trim()).ok()
            })
            .map(|n| n as usize)
            .unwrap_or(8 << 20)
    })
}

pub(crate) fn device_properties(d: &DeviceRef, stype: u32) -> ze_device_properties_t {
    let place = &d.state().place;
    let cycles_per_second = stype == ze_structure_type_t::ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2.0;
    ze_device_properties_t {
        type_: match d.instance.config.device_type {
            DeviceType::Cpu => ze_device_type_t::ZE_DEVICE_TYPE_CPU,
            DeviceType::Gpu => ze_device_type_t::ZE_DEVICE_TYPE_GPU,
        },
        vendorId: 0,
        deviceId: 0,
        flags: if place.subdevice {
            ze_device_property_flag_t::ZE_DEVICE_PROPERTY_FLAG_SUBDEVICE.0
        } else {
            0
        },
        subdeviceId: if place.subdevice {
            place.tile.unwrap_or(0)
        } else {
            0
        },
        coreClockRate: 2000,
        maxMemAllocSize: d.instance.config.max_alloc_size().min(place.capacity),
        maxHardwareContexts: 64,
        maxCommandQueuePriority: 0,
        numThreadsPerEU: 1,
        physicalEUSimdWidth: 8,
        numEUsPerSubslice: 1,
        numSubslicesPerSlice: host_threads(),
        numSlices: 1,
        // Nanoseconds; with the 1.2 structure type the unit is cycles per second.
        timerResolution: if cycles_per_second { 1_000_000_000 } else { 1 },
        timestampValidBits: 64,
        kernelTimestampValidBits: 64,
        uuid: ze_device_uuid_t { id: d.state().uuid },
        name: ffi::c_name(&d.name()),
        ..Default::default()
    }
}

/// The command-queue groups of an instance's devices, by ordinal ([`QueueGroups`]).
pub(crate) fn queue_groups(shape: QueueGroups) -> Vec<ze_command_queue_group_properties_t> {
    use ze_command_queue_group_property_flag_t as F;
    let group = |flags: u32, numQueues: u32| ze_command_queue_group_properties_t {
        flags,
        maxMemoryFillPatternSize: MAX_FILL_PATTERN,
        numQueues,
        ..Default::default()
    };
    let compute = F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0;
    let copy = F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY.0;
    let cooperative = F::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS.0;
    match shape {
        QueueGroups::Gpu => vec![
            group(compute | copy | cooperative, 1),
            group(copy, 1),
            group(copy, 8),
        ],
        QueueGroups::Simple => vec![group(compute | copy, 1), group(copy, 2)],
    }
}

/// The flags and queue count of the group `ordinal` of `d`'s instance, or
/// `ZE_RESULT_ERROR_INVALID_ARGUMENT` naming the groups there are.
pub(crate) fn queue_group(d: &DeviceRef, ordinal: u32) -> ZeResult<(u32, u32)> {
    let groups = queue_groups(d.instance.config.queue_groups);
    match groups.get(ordinal as usize) {
        Some(g) => Ok((g.flags, g.numQueues)),
        None => bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "command queue group ordinal {ordinal} out of range: the device has {} groups",
            groups.len()
        ),
    }
}

/// `ZE_RESULT_ERROR_INVALID_ARGUMENT` unless `d` has queue `index` in group `ordinal`.
pub(crate) fn check_queue(d: &DeviceRef, ordinal: u32, index: u32) -> ZeResult {
    let (_, queues) = queue_group(d, ordinal)?;
    if index >= queues {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "queue index {index} out of range: group {ordinal} has {queues} queues"
        );
    }
    Ok(())
}

/// The most work-groups of a cooperative launch: the engine runs the work-items of one group
/// together, but does not guarantee that several groups run at the same time.
pub(crate) const MAX_COOPERATIVE_GROUPS: u32 = 1;

/// `ZE_RESULT_ERROR_INVALID_ARGUMENT` unless the group `ordinal` of `d` runs cooperative
/// kernels.
pub(crate) fn check_cooperative(d: &DeviceRef, ordinal: u32) -> ZeResult {
    let (flags, _) = queue_group(d, ordinal)?;
    let cooperative =
        ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS.0;
    if flags & cooperative == 0 {
        bail!(
            ZE_RESULT_ERROR_INVALID_ARGUMENT,
            "command queue group {ordinal} does not run cooperative kernels (no ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS; LEVEL_ZERO_CPU_QUEUE_GROUPS=gpu has it)"
        );
    }
    Ok(())
}

/// Whether the group `ordinal` of `d` runs kernels (has `ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE`).
pub(crate) fn group_computes(d: &DeviceRef, ordinal: u32) -> bool {
    queue_group(d, ordinal).is_ok_and(|(flags, _)| {
        flags
            & ze_command_queue_group_property_flag_t::ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE.0
            != 0
    })
}

/// Vector widths of an AVX2 CPU: one entry per SIMD width (256-bit, then 128-bit), largest
/// first, each giving how many elements of each type fill that width.
pub(crate) fn vector_widths() -> [ze_device_vector_width_properties_ext_t; 2] {
    let entry = |bits: u32| ze_device_vector_width_properties_ext_t {
        vector_width_size: bits / 32,
        preferred_vector_width_char: bits / 8,
        preferred_vector_width_short: bits / 16,
        preferred_vector_width_int: bits / 32,
        preferred_vector_width_long: bits / 64,
        preferred_vector_width_float: bits / 32,
        preferred_vector_width_double: bits / 64,
        preferred_vector_width_half: bits / 16,
        native_vector_width_char: bits / 8,
        native_vector_width_short: bits / 16,
        native_vector_width_int: bits / 32,
        native_vector_width_long: bits / 64,
        native_vector_width_float: bits / 32,
        native_vector_width_double: bits / 64,
        native_vector_width_half: bits / 16,
        ..Default::default()
    };
    [entry(256), entry(128)]
}

entry_points! {
    /// The devices the hierarchy and the affinity mask show (see the module documentation).
    fn zeDeviceGet(hDriver: ze_driver_handle_t, pCount: *mut u32, phDevices: *mut ze_device_handle_t) {
        let instance: &'static crate::driver::Instance = handles::get(hDriver)?;
        let list: Vec<ze_device_handle_t> =
            instance.listed.iter().map(|&i| handles::raw(instance.devices[i].handle)).collect();
        // SAFETY: the caller's count and array.
        unsafe { ffi::write_array(pCount, phDevices, &list) }
    }

    /// A card's tiles in the `COMPOSITE` and `COMBINED` hierarchies; none otherwise.
    fn zeDeviceGetSubDevices(hDevice: ze_device_handle_t, pCount: *mut u32, phSubdevices: *mut ze_device_handle_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let list: Vec<ze_device_handle_t> = d
            .state()
            .place
            .subdevices
            .iter()
            .map(|&i| handles::raw(d.instance.devices[i].handle))
            .collect();
        // SAFETY: the caller's count and array.
        unsafe { ffi::write_array(pCount, phSubdevices, &list) }
    }

    /// A sub-device's card; NULL for a root device.
    fn zeDeviceGetRootDevice(hDevice: ze_device_handle_t, phRootDevice: *mut ze_device_handle_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let root = d
            .state()
            .place
            .root
            .map_or(std::ptr::null_mut(), |i| handles::raw(d.instance.devices[i].handle));
        // SAFETY: the caller's output.
        unsafe { ffi::write(phRootDevice, root) }
    }

    fn zeDeviceGetProperties(hDevice: ze_device_handle_t, pDeviceProperties: *mut ze_device_properties_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        if pDeviceProperties.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null pDeviceProperties");
        }
        // SAFETY: non-null; the caller's structure, whose stype is initialised.
        let stype = unsafe { pDeviceProperties.cast::<ze_base_properties_t>().read_unaligned().stype.0 };
        let filled = crate::graph::device_properties_filled(d.instance);
        // SAFETY: the caller's structure and its chain.
        let header = unsafe { ffi::fill_extended(pDeviceProperties, device_properties(&d, stype), filled)? };
        // SAFETY: the caller's chain, checked by `fill_extended`.
        unsafe { crate::graph::fill_device_properties(d.instance, header.pNext) };
        Ok(())
    }

    fn zeDeviceGetComputeProperties(hDevice: ze_device_handle_t, pProps: *mut ze_device_compute_properties_t) {
        let _: DeviceRef = handles::get(hDevice)?;
        let mut sizes = [0u32; 8];
        let reported = level_zero_cpu_spirv::SUBGROUP_SIZES;
        sizes[..reported.len()].copy_from_slice(&reported);
        let props = ze_device_compute_properties_t {
            maxTotalGroupSize: MAX_TOTAL_GROUP_SIZE,
            maxGroupSizeX: MAX_GROUP_SIZE[0],
            maxGroupSizeY: MAX_GROUP_SIZE[1],
            maxGroupSizeZ: MAX_GROUP_SIZE[2],
            maxGroupCountX: u32::MAX,
            maxGroupCountY: u32::MAX,
            maxGroupCountZ: u32::MAX,
            maxSharedLocalMemory: MAX_SHARED_LOCAL_MEMORY,
            numSubGroupSizes: reported.len() as u32,
            subGroupSizes: sizes,
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    fn zeDeviceGetModuleProperties(hDevice: ze_device_handle_t, pProps: *mut ze_device_module_properties_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        use ze_device_fp_flag_t as Fp;
        let fp = Fp::ZE_DEVICE_FP_FLAG_DENORM.0
            | Fp::ZE_DEVICE_FP_FLAG_INF_NAN.0
            | Fp::ZE_DEVICE_FP_FLAG_ROUND_TO_NEAREST.0
            | Fp::ZE_DEVICE_FP_FLAG_FMA.0;
        let mut native = *b"l0cpu-native\0\0\0\0";
        native[12..].copy_from_slice(&crate::driver::DRIVER_VERSION.to_le_bytes());
        let _ = d;
        let props = ze_device_module_properties_t {
            spirvVersionSupported: make_version(1, 2).0,
            flags: ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_FP16.0
                | ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_FP64.0
                | ze_device_module_flag_t::ZE_DEVICE_MODULE_FLAG_INT64_ATOMICS.0,
            fp16flags: fp,
            fp32flags: fp,
            fp64flags: fp,
            maxArgumentsSize: 2048,
            printfBufferSize: 1 << 20,
            nativeKernelSupported: ze_native_kernel_uuid_t { id: native },
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    fn zeDeviceGetCommandQueueGroupProperties(
        hDevice: ze_device_handle_t,
        pCount: *mut u32,
        pProps: *mut ze_command_queue_group_properties_t,
    ) {
        let d: DeviceRef = handles::get(hDevice)?;
        // SAFETY: the caller's count and array.
        unsafe { ffi::fill_array(pCount, pProps, &queue_groups(d.instance.config.queue_groups)) }
    }

    fn zeDeviceGetMemoryProperties(
        hDevice: ze_device_handle_t,
        pCount: *mut u32,
        pProps: *mut ze_device_memory_properties_t,
    ) {
        let d: DeviceRef = handles::get(hDevice)?;
        let props = ze_device_memory_properties_t {
            flags: 0,
            maxClockRate: 0,
            maxBusWidth: 64,
            totalSize: d.state().place.capacity,
            name: ffi::c_name("host RAM (simulated device memory)"),
            ..Default::default()
        };
        // SAFETY: the caller's count and array.
        unsafe { ffi::fill_array(pCount, pProps, &[props]) }
    }

    /// Kernels reach host, device and shared allocations; not arbitrary system memory.
    fn zeDeviceGetMemoryAccessProperties(hDevice: ze_device_handle_t, pProps: *mut ze_device_memory_access_properties_t) {
        let _: DeviceRef = handles::get(hDevice)?;
        use ze_memory_access_cap_flag_t as M;
        let all = M::ZE_MEMORY_ACCESS_CAP_FLAG_RW.0
            | M::ZE_MEMORY_ACCESS_CAP_FLAG_ATOMIC.0
            | M::ZE_MEMORY_ACCESS_CAP_FLAG_CONCURRENT.0
            | M::ZE_MEMORY_ACCESS_CAP_FLAG_CONCURRENT_ATOMIC.0;
        let props = ze_device_memory_access_properties_t {
            hostAllocCapabilities: all,
            deviceAllocCapabilities: all,
            sharedSingleDeviceAllocCapabilities: all,
            sharedCrossDeviceAllocCapabilities: all,
            sharedSystemAllocCapabilities: 0,
            ..Default::default()
        };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    fn zeDeviceGetCacheProperties(hDevice: ze_device_handle_t, pCount: *mut u32, pProps: *mut ze_device_cache_properties_t) {
        let _: DeviceRef = handles::get(hDevice)?;
        let props = ze_device_cache_properties_t { flags: 0, cacheSize: cache_size(), ..Default::default() };
        // SAFETY: the caller's count and array.
        unsafe { ffi::fill_array(pCount, pProps, &[props]) }
    }

    /// Images are not supported: every limit is zero.
    fn zeDeviceGetImageProperties(hDevice: ze_device_handle_t, pProps: *mut ze_device_image_properties_t) {
        let _: DeviceRef = handles::get(hDevice)?;
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, crate::image::device_image_properties()).map(drop) }
    }

    /// No external memory import or export.
    fn zeDeviceGetExternalMemoryProperties(hDevice: ze_device_handle_t, pProps: *mut ze_device_external_memory_properties_t) {
        let _: DeviceRef = handles::get(hDevice)?;
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, ze_device_external_memory_properties_t::default()).map(drop) }
    }

    fn zeDeviceGetP2PProperties(hDevice: ze_device_handle_t, hPeerDevice: ze_device_handle_t, pProps: *mut ze_device_p2p_properties_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let peer = d.instance.own_device(hPeerDevice)?;
        let flags = if d.can_access(peer.index) {
            ze_device_p2p_property_flag_t::ZE_DEVICE_P2P_PROPERTY_FLAG_ACCESS.0
                | ze_device_p2p_property_flag_t::ZE_DEVICE_P2P_PROPERTY_FLAG_ATOMICS.0
        } else {
            0
        };
        let props = ze_device_p2p_properties_t { flags, ..Default::default() };
        // SAFETY: the caller's structure.
        unsafe { ffi::fill(pProps, props).map(drop) }
    }

    fn zeDeviceCanAccessPeer(hDevice: ze_device_handle_t, hPeerDevice: ze_device_handle_t, value: *mut ze_bool_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let peer = d.instance.own_device(hPeerDevice)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(value, d.can_access(peer.index) as ze_bool_t) }
    }

    fn zeDeviceGetStatus(hDevice: ze_device_handle_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        d.check_alive()
    }

    /// Host and device share one clock (nanoseconds of `CLOCK_MONOTONIC_RAW`).
    /// Waits until everything submitted to the device — to any of its command queues and
    /// immediate command lists, and to those of its sub-devices — has completed. Returns the
    /// first execution failure of that work since the last call (its code and description;
    /// queues and lists still report it to their own synchronisation), or
    /// `ZE_RESULT_ERROR_DEVICE_LOST` once the device (or a sub-device) is lost and none of
    /// its work runs any more. As the specification says, it waits for ever for work blocked
    /// on an event that is never signalled.
    fn zeDeviceSynchronize(hDevice: ze_device_handle_t) {
        let d: DeviceRef = handles::get(hDevice)?;
        let group = d.with_subdevices();
        let outcome = d.instance.signal.wait(u64::MAX, || {
            if group.iter().any(DeviceRef::is_lost) {
                // Reported once no lost device's command can touch memory.
                return group
                    .iter()
                    .all(|g| !g.is_lost() || g.quiescent())
                    .then_some(false);
            }
            group.iter().all(DeviceRef::idle).then_some(true)
        });
        if outcome == Some(false) {
            for g in &group {
                g.check_alive()?;
            }
        }
        for g in &group {
            if let Some((code, message)) = lock(&g.state().failure).take() {
                return Err(ffi::fail(code, format!("work submitted to the device failed: {message}")));
            }
        }
        Ok(())
    }

    fn zeDeviceGetGlobalTimestamps(hDevice: ze_device_handle_t, hostTimestamp: *mut u64, deviceTimestamp: *mut u64) {
        let _: DeviceRef = handles::get(hDevice)?;
        if hostTimestamp.is_null() || deviceTimestamp.is_null() {
            bail!(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "null timestamp pointer");
        }
        let t = now_ns();
        // SAFETY: both checked non-null; the caller's outputs.
        unsafe {
            ffi::write(hostTimestamp, t)?;
            ffi::write(deviceTimestamp, t)
        }
    }

    /// [`MAX_COOPERATIVE_GROUPS`], whatever the kernel (the kernel is checked).
    fn zeKernelSuggestMaxCooperativeGroupCount(hKernel: ze_kernel_handle_t, totalGroupCount: *mut u32) {
        let _: std::sync::Arc<crate::module::Kernel> = handles::get(hKernel)?;
        // SAFETY: the caller's output.
        unsafe { ffi::write(totalGroupCount, MAX_COOPERATIVE_GROUPS) }
    }

    /// `ZE_extension_device_vector_sizes`: reached only through
    /// `zeDriverGetExtensionFunctionAddress`.
    fn zeDeviceGetVectorWidthPropertiesExt(
        hDevice: ze_device_handle_t,
        pCount: *mut u32,
        pVectorWidthProperties: *mut ze_device_vector_width_properties_ext_t,
    ) {
        let _: DeviceRef = handles::get(hDevice)?;
        // SAFETY: the caller's count and array.
        unsafe { ffi::fill_array(pCount, pVectorWidthProperties, &vector_widths()) }
    }
}

/// Records residency of `[ptr, ptr + size)` on a device (`zeContextMakeMemoryResident`).
pub(crate) fn make_resident(d: &DeviceRef, ptr: usize, size: usize) {
    let state = d.state();
    state.make_resident_calls.fetch_add(1, Ordering::Relaxed);
    lock(&state.resident).insert(ptr, size);
}

/// Forgets residency of a range; `false` if it was not resident (`zeContextEvictMemory`).
pub(crate) fn evict(d: &DeviceRef, ptr: usize) -> bool {
    let state = d.state();
    state.evict_calls.fetch_add(1, Ordering::Relaxed);
    lock(&state.resident).remove(&ptr).is_some()
}

/// Forgets residency of every range inside a freed allocation, on every device.
pub(crate) fn forget_residency(instance: &crate::driver::Instance, base: usize, size: usize) {
    for d in &instance.devices {
        lock(&d.resident).retain(|&p, _| p < base || p >= base + size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(subdevices: u32, hierarchy: Hierarchy, mask: &str) -> Config {
        Config {
            subdevices,
            hierarchy,
            affinity_mask: Some(mask.into()),
            ..Config::default()
        }
    }

    /// (card, tile, sub-device?, root, sub-devices) of a device.
    type Shape = (usize, Option<u32>, bool, Option<usize>, Vec<usize>);

    /// Every device's shape, the listed ones, and the number of mask errors.
    fn shape(c: &Config) -> (Vec<Shape>, Vec<usize>, usize) {
        let t = Topology::build(c, 99);
        let places = t
            .devices
            .iter()
            .map(|d| {
                let p = &d.place;
                (p.card, p.tile, p.subdevice, p.root, p.subdevices.clone())
            })
            .collect();
        (places, t.listed, t.errors.len())
    }

    #[test]
    fn masks_without_sub_devices() {
        let (devices, listed, errors) = shape(&config(0, Hierarchy::Flat, "1,1,0"));
        assert_eq!(
            devices,
            vec![
                (0, None, false, None, vec![]),
                (1, None, false, None, vec![])
            ]
        );
        assert_eq!((listed, errors), (vec![0, 1], 0));
        let (devices, listed, errors) = shape(&config(0, Hierarchy::Composite, "0.1,x,2,"));
        assert!(devices.is_empty() && listed.is_empty());
        assert_eq!(errors, 3);
    }

    #[test]
    fn flat_and_combined_masks_index_tiles() {
        let (devices, listed, errors) = shape(&config(2, Hierarchy::Flat, "3, 1"));
        assert_eq!(
            devices,
            vec![
                (0, Some(1), false, None, vec![]),
                (1, Some(1), false, None, vec![])
            ]
        );
        assert_eq!((listed, errors), (vec![0, 1], 0));
        // Sub-device notation is COMPOSITE's.
        assert_eq!(shape(&config(2, Hierarchy::Flat, "0.1")).2, 1);
        let (devices, listed, _) = shape(&config(3, Hierarchy::Combined, "0,2,4"));
        assert_eq!(
            devices,
            vec![
                (0, None, false, None, vec![1, 2]),
                (0, Some(0), true, Some(0), vec![]),
                (0, Some(2), true, Some(0), vec![]),
                (1, Some(1), false, None, vec![]),
            ]
        );
        assert_eq!(listed, vec![1, 2, 3]);
    }

    #[test]
    fn composite_masks_pick_cards_and_tiles() {
        let (devices, listed, errors) =
            shape(&config(2, Hierarchy::Composite, "1.1,1.0,0.1,0.2,2"));
        assert_eq!(
            devices,
            vec![
                (0, Some(1), false, None, vec![]),
                (1, None, false, None, vec![2, 3]),
                (1, Some(0), true, Some(1), vec![]),
                (1, Some(1), true, Some(1), vec![]),
            ]
        );
        assert_eq!((listed, errors), (vec![0, 1], 2));
    }
}
