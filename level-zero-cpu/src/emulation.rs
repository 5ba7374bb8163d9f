//! Emulating an older driver (`Config::api_version`, `LEVEL_ZERO_CPU_API_VERSION=1.N`): the flag
//! bits a driver of specification 1.N did not define, which it would refuse with
//! `ZE_RESULT_ERROR_INVALID_ENUMERATION` (its headers' "`0x7 < desc->flags`" rule).
//!
//! The version that introduced each bit:
//!
//! - `ZE_COMMAND_LIST_FLAG_IN_ORDER` and `ZE_COMMAND_QUEUE_FLAG_IN_ORDER`: 1.7 (the
//!   specification's change adding in-order lists, level-zero-spec pull request 165, gives the
//!   enumerator `version: "1.7"`; Debian's 1.4 headers do not have them, a 1.7 `ze_api.h` has
//!   both, with the masks `0xf` and `0x3`).
//! - `ZE_COMMAND_LIST_FLAG_EXP_CLONEABLE`: 1.9, with the command-list cloning extension it
//!   belongs to (specification 1.9.0's release notes; `zeCommandListCreateCloneExp`'s DDI
//!   field is of 1.9).
//! - `ZE_COMMAND_LIST_FLAG_COPY_OFFLOAD_HINT` and `ZE_COMMAND_QUEUE_FLAG_COPY_OFFLOAD_HINT`:
//!   1.13 (absent from the 1.12 headers this driver was built from before 1.17).

use level_zero_sys::{ze_api_version_t, ze_command_list_flag_t, ze_command_queue_flag_t};

use crate::driver::Instance;
use crate::ffi::{ZeResult, bail};

/// A flag bit and the minor version of specification 1.x that introduced it.
struct Bit {
    value: u32,
    name: &'static str,
    since: u32,
}

/// A bit of `ze_command_list_flag_t`, named by the generated bindings.
const fn list(flag: ze_command_list_flag_t, since: u32) -> Bit {
    Bit {
        value: flag.0,
        name: match flag.name() {
            Some(n) => n,
            None => panic!("a flag the headers define"),
        },
        since,
    }
}

/// A bit of `ze_command_queue_flag_t`, named by the generated bindings.
const fn queue(flag: ze_command_queue_flag_t, since: u32) -> Bit {
    Bit {
        value: flag.0,
        name: match flag.name() {
            Some(n) => n,
            None => panic!("a flag the headers define"),
        },
        since,
    }
}

const LIST_FLAGS: &[Bit] = &[
    list(
        ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_RELAXED_ORDERING,
        0,
    ),
    list(
        ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_MAXIMIZE_THROUGHPUT,
        0,
    ),
    list(
        ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_EXPLICIT_ONLY,
        0,
    ),
    list(ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_IN_ORDER, 7),
    list(
        ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_EXP_CLONEABLE,
        9,
    ),
    list(
        ze_command_list_flag_t::ZE_COMMAND_LIST_FLAG_COPY_OFFLOAD_HINT,
        13,
    ),
];

const QUEUE_FLAGS: &[Bit] = &[
    queue(
        ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_EXPLICIT_ONLY,
        0,
    ),
    queue(ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_IN_ORDER, 7),
    queue(
        ze_command_queue_flag_t::ZE_COMMAND_QUEUE_FLAG_COPY_OFFLOAD_HINT,
        13,
    ),
];

/// The bits of `table` a driver of `version` knows.
fn known(table: &[Bit], version: ze_api_version_t) -> u32 {
    table
        .iter()
        .filter(|b| b.since <= version.minor())
        .fold(0, |mask, b| mask | b.value)
}

/// The command-list flags a driver of `version` accepts.
#[cfg(test)]
fn known_list_flags(version: ze_api_version_t) -> u32 {
    known(LIST_FLAGS, version)
}

/// The command-queue (and immediate-list) flags a driver of `version` accepts.
#[cfg(test)]
fn known_queue_flags(version: ze_api_version_t) -> u32 {
    known(QUEUE_FLAGS, version)
}

/// `ZE_RESULT_ERROR_INVALID_ENUMERATION` for bits of `flags` that `instance`'s emulated
/// version does not know, naming them and the version that introduced them. Bits no version
/// defines are the callers' own check.
fn check(instance: &Instance, table: &[Bit], what: &str, flags: u32) -> ZeResult {
    let version = instance.config.api_version;
    if flags & !known(table, version) & known(table, level_zero_sys::HEADER_API_VERSION) == 0 {
        return Ok(());
    }
    let newer: Vec<String> = table
        .iter()
        .filter(|b| flags & b.value != 0 && b.since > version.minor())
        .map(|b| format!("{} (since 1.{})", b.name, b.since))
        .collect();
    if !newer.is_empty() {
        bail!(
            ZE_RESULT_ERROR_INVALID_ENUMERATION,
            "{what} flags {flags:#x}: {} unknown to API version {}.{}, which this driver emulates (LEVEL_ZERO_CPU_API_VERSION)",
            newer.join(", "),
            version.major(),
            version.minor()
        );
    }
    Ok(())
}

/// Refuses command-list flags newer than the emulated version.
pub(crate) fn check_list_flags(instance: &Instance, flags: u32) -> ZeResult {
    check(instance, LIST_FLAGS, "command list", flags)
}

/// Refuses command-queue flags newer than the emulated version.
pub(crate) fn check_queue_flags(instance: &Instance, flags: u32) -> ZeResult {
    check(instance, QUEUE_FLAGS, "command queue", flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use level_zero_sys::{HEADER_API_VERSION, make_version};

    #[test]
    fn masks_grow_with_the_version() {
        assert_eq!(known_list_flags(make_version(1, 4)), 0x7);
        assert_eq!(known_list_flags(make_version(1, 6)), 0x7);
        assert_eq!(known_list_flags(make_version(1, 7)), 0xf);
        assert_eq!(known_list_flags(make_version(1, 9)), 0x1f);
        assert_eq!(known_list_flags(make_version(1, 12)), 0x1f);
        assert_eq!(known_list_flags(HEADER_API_VERSION), 0x3f);
        assert_eq!(known_queue_flags(make_version(1, 0)), 0x1);
        assert_eq!(known_queue_flags(make_version(1, 7)), 0x3);
        assert_eq!(known_queue_flags(make_version(1, 12)), 0x3);
        assert_eq!(known_queue_flags(HEADER_API_VERSION), 0x7);
    }
}
