//! Configuration of a driver instance: devices, memory, extensions and fault injection.
//!
//! The default instance (the one `zeInit`/`zeDriverGet` expose) reads it from `LEVEL_ZERO_CPU_*`
//! environment variables once, when it is created ([`Config::from_env`]); instances made with
//! [`crate::new_driver`] take a [`Config`] value. A malformed variable is reported on stderr (and
//! through `log`) and ignored: that variable keeps its default, the others still apply —
//! except the variables that make the driver emulate another one ([`FATAL_VARIABLES`]:
//! `LEVEL_ZERO_CPU_API_VERSION`, `LEVEL_ZERO_CPU_HIDE_FUNCTIONS`), whose errors make `zeInit`
//! fail: a client testing its fallbacks must not silently get the full driver instead.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use level_zero_sys::{FUNCTIONS, HEADER_API_VERSION, make_version, ze_api_version_t};

use crate::engine::ProgramBuilder;

/// The prefix of every environment variable the driver reads.
pub const ENV_PREFIX: &str = "LEVEL_ZERO_CPU_";

/// The variables whose errors are not ignored: the default instance does not initialise
/// (`zeInit` and `zeInitDrivers` fail with `ZE_RESULT_ERROR_UNINITIALIZED`, the description
/// naming the variable). They make the driver emulate an older or poorer one; falling back to
/// the full driver would defeat the test that set them.
pub const FATAL_VARIABLES: &[&str] = &[
    "LEVEL_ZERO_CPU_API_VERSION",
    "LEVEL_ZERO_CPU_HIDE_FUNCTIONS",
];

/// The variables of Intel's driver that this one reads too (without the `LEVEL_ZERO_CPU_`
/// prefix).
pub const INTEL_VARIABLES: &[&str] = &["ZE_AFFINITY_MASK", "ZE_FLAT_DEVICE_HIERARCHY"];

/// One GiB.
const GIB: u64 = 1 << 30;

/// The configuration of one driver instance.
///
/// `#[non_exhaustive]`: start from [`Config::default`] (or [`Config::from_env`]) and set fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Number of devices (`LEVEL_ZERO_CPU_DEVICES`, default 2, at most 64: larger values are
    /// clamped).
    pub devices: u32,
    /// Memory capacity of each device in bytes (`LEVEL_ZERO_CPU_DEVICE_MEMORY`, default 4 GiB).
    /// Device and shared allocations count against it; exceeding it gives
    /// `ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY`. Memory is committed lazily by the host OS, so a
    /// large capacity costs nothing until it is used.
    pub device_memory: u64,
    /// `maxMemAllocSize`: the largest single allocation without the relaxed-allocation-limits
    /// descriptor (`LEVEL_ZERO_CPU_MAX_ALLOC`, default a quarter of `device_memory`, as OpenCL
    /// devices commonly report).
    pub max_alloc: Option<u64>,
    /// Whether devices can access each other's memory (`LEVEL_ZERO_CPU_P2P=0` turns it off).
    pub p2p: bool,
    /// Extensions not advertised, and whose functions do not resolve
    /// (`LEVEL_ZERO_CPU_HIDE_EXTENSIONS=name,name`).
    pub hidden_extensions: Vec<String>,
    /// Extension functions that `zeDriverGetExtensionFunctionAddress` resolves to NULL with
    /// `ZE_RESULT_SUCCESS`, while their extension stays advertised: a driver bug seen in the
    /// wild (`LEVEL_ZERO_CPU_NULL_EXTENSION_FUNCTIONS=zeDeviceGetVectorWidthPropertiesExt`).
    pub null_extension_functions: Vec<String>,
    /// Fault: the N-th allocation call (1-based, counting `zeMemAllocDevice`, `Host` and
    /// `Shared` of this instance) fails with `ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY`
    /// (`LEVEL_ZERO_CPU_FAIL_ALLOC_AT=N`).
    pub fail_alloc_at: Option<u64>,
    /// Fault: device loss (`LEVEL_ZERO_CPU_DEVICE_LOST_AFTER=N`, N ≥ 0).
    ///
    /// Each device counts the submissions it accepts — a submission is one
    /// `zeCommandQueueExecuteCommandLists` call, or one command appended to an immediate list,
    /// counted over all the device's queues and lists. The first N run normally. Submission
    /// N + 1 loses the device when the worker of its queue or list reaches it (after the work
    /// queued before it there), and none of its commands runs; so does any later submission
    /// accepted before that moment. With N = 0 the first submission loses the device. Inline
    /// execution (small appends run on the appending thread) never applies to a submission
    /// that loses the device.
    ///
    /// From the loss on, the device's work stops: jobs not started are skipped, jobs blocked
    /// in an event wait are abandoned, a running job stops before its next command (the
    /// command running finishes); the events and fences that work would have signalled stay
    /// unsignalled. New submissions and device allocations fail with
    /// `ZE_RESULT_ERROR_DEVICE_LOST`, as do `zeDeviceGetStatus` and `zeContextGetStatus`.
    /// Waits and queries (`zeCommandQueueSynchronize`, `zeCommandListHostSynchronize`,
    /// `zeFenceHostSynchronize`/`QueryStatus` of the device's queues and lists) return
    /// `ZE_RESULT_ERROR_DEVICE_LOST` only once no command of the device can touch memory any
    /// more; before that they keep waiting (`ZE_RESULT_NOT_READY` when their timeout
    /// expires). The commands a lost device never ran complete as no-ops, in order, each
    /// after its wait events, signalling their events with the loss — also when their queue
    /// or list is destroyed first (a thread of their own then finishes them), so work of
    /// other devices waiting for those events never hangs. `zeEventHostSynchronize` and
    /// `zeEventQueryStatus` on an event that is not signalled return it once a device of the
    /// event's pool is lost, the lost devices of the pool run no job, and the others have no
    /// job queued or running (a job a device that is not lost accepted may still signal the
    /// event, even before it starts). Callers may thus free
    /// the memory of the lost work as soon as they see the error. The other devices are not
    /// affected.
    pub device_lost_after: Option<u64>,
    /// Fault: a delay before every command (`LEVEL_ZERO_CPU_COMMAND_DELAY_US`, microseconds).
    ///
    /// The worker running a submission sleeps this long before each of its commands (copy,
    /// fill, launch, barrier, event signal or reset, timestamp...), after the command's event
    /// waits. It widens race windows, so that a client that reads results before synchronising
    /// with the work sees wrong data. Whenever it is set (even to 0), no command runs on the
    /// thread that appends it (small appends to idle immediate lists normally do): every
    /// command is asynchronous. A device loss or the destruction of the queue or list cuts the
    /// sleep short. `None` (the default): no delay.
    pub command_delay: Option<Duration>,
    /// Fault: every `zeModuleCreate` fails with `ZE_RESULT_ERROR_MODULE_BUILD_FAILURE`
    /// (`LEVEL_ZERO_CPU_FAIL_MODULE_BUILD=1`).
    pub fail_module_build: bool,
    /// What the sysman (`zes`) memory functions do (`LEVEL_ZERO_CPU_SYSMAN=enabled`,
    /// `denied` or `absent`): answer from the driver's accounting, refuse with
    /// `ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS` (as sysman does without elevated rights on
    /// many systems), or be absent (`ZE_RESULT_ERROR_UNSUPPORTED_FEATURE`, and the instance is
    /// not listed by `zesDriverGet`).
    pub sysman: Sysman,
    /// The device type the devices report (`LEVEL_ZERO_CPU_DEVICE_TYPE=cpu` or `gpu`, default
    /// `cpu`). The default is the honest one; `gpu` exists for foreign clients that only use
    /// GPU devices: Intel's Unified Runtime adapter (the SYCL runtime's Level Zero backend)
    /// creates platforms only for `ZE_DEVICE_TYPE_GPU`, and pocl's Level Zero device takes its
    /// command path only for GPUs. Nothing else changes: the devices keep the CPU driver's
    /// properties and limits.
    pub device_type: DeviceType,
    /// Sub-devices (tiles) per device (`LEVEL_ZERO_CPU_SUBDEVICES=N`, default 0: no
    /// sub-devices; otherwise 2 to 16). Each device then models a multi-tile GPU card whose
    /// tiles share its memory: how they appear depends on [`Config::hierarchy`], and
    /// [`Config::affinity_mask`] picks among them. See `docs/ARCHITECTURE.md` (device topology).
    pub subdevices: u32,
    /// The device hierarchy (`ZE_FLAT_DEVICE_HIERARCHY=FLAT`, `COMPOSITE` or `COMBINED`, default
    /// `FLAT` as in Intel's driver). It only matters when [`Config::subdevices`] is set.
    pub hierarchy: Hierarchy,
    /// Which devices are visible (`ZE_AFFINITY_MASK`, as Intel's driver reads it): `None` or
    /// an empty string shows every device. In `FLAT` and `COMBINED` hierarchies the entries
    /// index the devices `zeDeviceGet` would list without a mask (`0,2`); in `COMPOSITE` an
    /// entry is a device (`1`) or one of its sub-devices (`1.0`). Entries that name no device
    /// are reported on stderr and ignored, as malformed variables are.
    pub affinity_mask: Option<String>,
    /// The command-queue groups of every device (`LEVEL_ZERO_CPU_QUEUE_GROUPS=gpu` or
    /// `simple`, default `gpu`).
    pub queue_groups: QueueGroups,
    /// What the driver writes to stderr (`LEVEL_ZERO_CPU_LOG=error`, `warn`, `info` or
    /// `debug`; default: nothing). The setting is process-wide: the most verbose level any
    /// instance asked for applies. Independently of it, messages also go to the `log` crate.
    pub log: Option<log::Level>,
    /// The sub-group size of kernels that do not require one
    /// (`LEVEL_ZERO_CPU_SUBGROUP_SIZE=8`, `16` or `32`; default 16). The devices report the
    /// three sizes an Intel GPU reports (`subGroupSizes`); which one a kernel runs with is
    /// the compiler's choice on a GPU, and this setting's here (`zeKernelGetProperties`'s
    /// `maxSubgroupSize` tells). A kernel's `intel_reqd_sub_group_size` always wins.
    pub subgroup_size: u32,
    /// How modules are built from SPIR-V: `None` uses the kernel engine
    /// (`level_zero_cpu_spirv::Program::build`). Tests may plug in another engine here.
    pub program_builder: Option<ProgramBuilder>,
    /// The specification version this driver behaves as (`LEVEL_ZERO_CPU_API_VERSION=1.N`,
    /// default: the headers' 1.17), to emulate an older driver: `zeDriverGetApiVersion`
    /// reports it, and flag bits that version did not define are refused with
    /// `ZE_RESULT_ERROR_INVALID_ENUMERATION` as such a driver would (see
    /// `docs/ARCHITECTURE.md` and the driver's README for the list). The DDI getters are
    /// process-wide: they serve no field newer than the *default* instance's version (the
    /// environment's); an instance made with [`crate::new_driver`] reports its own version and
    /// refuses flags by it, but its functions are what the getters serve. Must be 1.0 to 1.17
    /// ([`Config::validate`]).
    pub api_version: ze_api_version_t,
    /// Functions the driver does not provide (`LEVEL_ZERO_CPU_HIDE_FUNCTIONS=zeFoo,zeBar`):
    /// their DDI fields are NULL and `zeDriverGetExtensionFunctionAddress` does not give them.
    /// Each must be a function of the headers (`level_zero_sys::FUNCTIONS`). As for
    /// [`Config::api_version`], the DDI getters follow the default instance's (environment's)
    /// list; an instance made with [`crate::new_driver`] applies its own to the extension
    /// lookup only.
    pub hidden_functions: Vec<String>,
    /// The engine that runs kernels (`LEVEL_ZERO_CPU_ENGINE=jit` or `interpreter`, default
    /// `jit`): native code compiled with Cranelift, or the interpreter, the reference
    /// implementation. With the JIT, a kernel it does not take (collectives, sub-group
    /// meeting points) runs on the interpreter; the driver logs that at `zeKernelCreate`
    /// (`info`) and `level_zero::cpu::kernel_engine` tells which engine a kernel runs on.
    pub engine: Engine,
    /// Compiled kernels' loads and stores are not checked by the device-side sanitizer
    /// (`LEVEL_ZERO_CPU_UNCHECKED=1`; default: checked). Faster; what it gives up: a kernel
    /// that reads or writes outside the memory it may touch does so for real — it may
    /// corrupt the process's memory or crash it, as a faulty GPU kernel corrupts device
    /// memory — instead of failing its launch with `ZE_RESULT_ERROR_INVALID_ARGUMENT` and
    /// a description naming the work-item and address. The interpreter always checks.
    pub unchecked: bool,
}

pub use level_zero_cpu_spirv::Engine;

impl Default for Config {
    fn default() -> Self {
        Config {
            devices: 2,
            device_memory: 4 * GIB,
            max_alloc: None,
            p2p: true,
            hidden_extensions: Vec::new(),
            null_extension_functions: Vec::new(),
            fail_alloc_at: None,
            device_lost_after: None,
            command_delay: None,
            fail_module_build: false,
            sysman: Sysman::Enabled,
            device_type: DeviceType::Cpu,
            subdevices: 0,
            hierarchy: Hierarchy::Flat,
            affinity_mask: None,
            queue_groups: QueueGroups::Gpu,
            log: None,
            subgroup_size: level_zero_cpu_spirv::DEFAULT_SUBGROUP_SIZE,
            program_builder: None,
            api_version: crate::driver::API_VERSION,
            hidden_functions: Vec::new(),
            engine: Engine::Jit,
            unchecked: false,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("devices", &self.devices)
            .field("device_memory", &self.device_memory)
            .field("max_alloc", &self.max_alloc)
            .field("p2p", &self.p2p)
            .field("hidden_extensions", &self.hidden_extensions)
            .field("null_extension_functions", &self.null_extension_functions)
            .field("fail_alloc_at", &self.fail_alloc_at)
            .field("device_lost_after", &self.device_lost_after)
            .field("command_delay", &self.command_delay)
            .field("fail_module_build", &self.fail_module_build)
            .field("sysman", &self.sysman)
            .field("device_type", &self.device_type)
            .field("subdevices", &self.subdevices)
            .field("hierarchy", &self.hierarchy)
            .field("affinity_mask", &self.affinity_mask)
            .field("queue_groups", &self.queue_groups)
            .field("log", &self.log)
            .field("subgroup_size", &self.subgroup_size)
            .field(
                "program_builder",
                &self.program_builder.as_ref().map(|_| "custom"),
            )
            .field(
                "api_version",
                &format_args!("{}.{}", self.api_version.major(), self.api_version.minor()),
            )
            .field("hidden_functions", &self.hidden_functions)
            .field("engine", &self.engine)
            .field("unchecked", &self.unchecked)
            .finish()
    }
}

/// What the driver's sysman memory functions do ([`Config::sysman`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sysman {
    /// They answer, from the driver's own accounting.
    #[default]
    Enabled,
    /// They refuse with `ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS`.
    Denied,
    /// They are unsupported, and the instance has no sysman driver.
    Absent,
}

/// The device type the driver's devices report ([`Config::device_type`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// `ZE_DEVICE_TYPE_CPU`: what the devices are.
    #[default]
    Cpu,
    /// `ZE_DEVICE_TYPE_GPU`: for clients that use only GPU devices.
    Gpu,
}

/// How sub-devices (tiles) appear ([`Config::hierarchy`], `ZE_FLAT_DEVICE_HIERARCHY`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Hierarchy {
    /// Every tile is a root device of its own; no device has sub-devices (Intel's default).
    #[default]
    Flat,
    /// Every card is a root device, its tiles are its sub-devices.
    Composite,
    /// `zeDeviceGet` lists the tiles, as in `FLAT`; each is a sub-device of its card, which
    /// `zeDeviceGetRootDevice` returns and whose `zeDeviceGetSubDevices` lists the tiles.
    Combined,
}

/// The shape of the devices' command-queue groups ([`Config::queue_groups`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueueGroups {
    /// Like an Intel discrete GPU: ordinal 0 compute (`COMPUTE | COPY |
    /// COOPERATIVE_KERNELS`, 1 queue), ordinal 1 the main copy engine (`COPY`, 1 queue),
    /// ordinal 2 the link copy engines (`COPY`, 8 queues).
    #[default]
    Gpu,
    /// Ordinal 0 compute (`COMPUTE | COPY`, 1 queue), ordinal 1 copy (`COPY`, 2 queues).
    Simple,
}

/// A malformed or unknown configuration variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: String,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    /// Whether the error keeps the driver from initialising (one of [`FATAL_VARIABLES`]) rather
    /// than being ignored.
    pub fn is_fatal(&self) -> bool {
        FATAL_VARIABLES.contains(&self.variable.as_str())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = if self.is_fatal() {
            "the driver does not initialise"
        } else {
            "ignored"
        };
        write!(
            f,
            "{}={:?}: {}; {outcome}",
            self.variable, self.value, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration from this process's `LEVEL_ZERO_CPU_*` environment variables. Each
    /// malformed or unknown variable is reported as an error and ignored.
    pub fn from_env() -> (Config, Vec<ConfigError>) {
        let vars = std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            (k.starts_with(ENV_PREFIX) || INTEL_VARIABLES.contains(&k.as_str()))
                .then(|| (k, v.to_string_lossy().into_owned()))
        });
        Config::from_vars(vars)
    }

    /// The configuration from `(name, value)` pairs named like the environment variables;
    /// names without the `LEVEL_ZERO_CPU_` prefix are skipped, except `ZE_AFFINITY_MASK` and
    /// `ZE_FLAT_DEVICE_HIERARCHY`, which Intel's driver reads and this one honours as well.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> (Config, Vec<ConfigError>) {
        let mut config = Config::default();
        let mut errors = Vec::new();
        for (name, value) in vars {
            let result = match name.strip_prefix(ENV_PREFIX) {
                Some(key) => config.set(key, value.trim()),
                None if INTEL_VARIABLES.contains(&name.as_str()) => {
                    config.set_intel(&name, value.trim())
                }
                None => continue,
            };
            if let Err(reason) = result {
                errors.push(ConfigError {
                    variable: name.clone(),
                    value: value.clone(),
                    reason,
                });
            }
        }
        (config, errors)
    }

    /// Sets one of the [`INTEL_VARIABLES`].
    fn set_intel(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "ZE_AFFINITY_MASK" => self.affinity_mask = Some(value.to_string()),
            "ZE_FLAT_DEVICE_HIERARCHY" => {
                self.hierarchy = match value {
                    "FLAT" => Hierarchy::Flat,
                    "COMPOSITE" => Hierarchy::Composite,
                    "COMBINED" => Hierarchy::Combined,
                    _ => return Err("expected FLAT, COMPOSITE or COMBINED".into()),
                }
            }
            _ => return Err("unknown variable".into()),
        }
        Ok(())
    }

    /// Sets one variable (its name without the prefix).
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "DEVICES" => {
                let n = parse_u64(value)?;
                if n > 64 {
                    return Err("at most 64 devices".into());
                }
                self.devices = n as u32;
            }
            "DEVICE_MEMORY" => self.device_memory = nonzero(parse_size(value)?)?,
            "MAX_ALLOC" => self.max_alloc = Some(nonzero(parse_size(value)?)?),
            "P2P" => self.p2p = parse_bool(value)?,
            "ENGINE" => {
                self.engine = match value.to_ascii_lowercase().as_str() {
                    "jit" => Engine::Jit,
                    "interpreter" => Engine::Interpreter,
                    _ => return Err("expected jit or interpreter".into()),
                }
            }
            "UNCHECKED" => self.unchecked = parse_bool(value)?,
            // Read by the engine itself when it compiles (for measurements and tests); checked
            // here so that a bad value is reported once, by name.
            "JIT_WIDTH" => {
                if !matches!(value.trim(), "0" | "4" | "8" | "16") {
                    return Err("expected 0 (no vector path), 4, 8 or 16".into());
                }
            }
            "JIT_DUMP" => {}
            "HIDE_EXTENSIONS" => self.hidden_extensions = parse_list(value),
            "NULL_EXTENSION_FUNCTIONS" => self.null_extension_functions = parse_list(value),
            "FAIL_ALLOC_AT" => self.fail_alloc_at = Some(nonzero(parse_u64(value)?)?),
            "DEVICE_LOST_AFTER" => self.device_lost_after = Some(parse_u64(value)?),
            "COMMAND_DELAY_US" => {
                self.command_delay = Some(Duration::from_micros(parse_u64(value)?));
            }
            "FAIL_MODULE_BUILD" => self.fail_module_build = parse_bool(value)?,
            "SYSMAN" => {
                self.sysman = match value.to_ascii_lowercase().as_str() {
                    "enabled" | "1" | "on" => Sysman::Enabled,
                    "denied" => Sysman::Denied,
                    "absent" | "0" | "off" => Sysman::Absent,
                    _ => return Err("expected enabled, denied or absent".into()),
                }
            }
            "DEVICE_TYPE" => {
                self.device_type = match value.to_ascii_lowercase().as_str() {
                    "cpu" => DeviceType::Cpu,
                    "gpu" => DeviceType::Gpu,
                    _ => return Err("expected cpu or gpu".into()),
                }
            }
            "SUBDEVICES" => {
                let n = parse_u64(value)?;
                if n == 1 || n > 16 {
                    return Err("expected 0 (no sub-devices) or 2 to 16".into());
                }
                self.subdevices = n as u32;
            }
            "QUEUE_GROUPS" => {
                self.queue_groups = match value.to_ascii_lowercase().as_str() {
                    "gpu" => QueueGroups::Gpu,
                    "simple" => QueueGroups::Simple,
                    _ => return Err("expected gpu or simple".into()),
                }
            }
            "LOG" => self.log = crate::log::parse_level(value)?,
            "SUBGROUP_SIZE" => {
                let n = parse_u64(value)?;
                if !level_zero_cpu_spirv::SUBGROUP_SIZES.contains(&(n as u32)) || n > 32 {
                    return Err("expected 8, 16 or 32".into());
                }
                self.subgroup_size = n as u32;
            }
            "API_VERSION" => self.api_version = parse_api_version(value)?,
            "HIDE_FUNCTIONS" => {
                let names = parse_list(value);
                check_function_names(&names)?;
                self.hidden_functions = names;
            }
            _ => return Err("unknown level-zero-cpu variable".into()),
        }
        Ok(())
    }

    /// Checks the settings whose values the type does not constrain: [`Config::api_version`]
    /// is 1.0 to 1.17, every [`Config::hidden_functions`] entry is a function of the headers.
    /// [`crate::new_driver`] panics on a configuration that fails this (the environment's
    /// variables are checked when they are read).
    pub fn validate(&self) -> Result<(), String> {
        check_api_version(self.api_version)?;
        check_function_names(&self.hidden_functions)
    }

    /// `maxMemAllocSize`: [`Config::max_alloc`], or a quarter of the device memory.
    pub fn max_alloc_size(&self) -> u64 {
        self.max_alloc
            .unwrap_or(self.device_memory / 4)
            .clamp(1, self.device_memory.max(1))
    }

    /// A program builder for this configuration: the configured one, or the kernel engine's.
    pub(crate) fn builder(&self) -> ProgramBuilder {
        self.program_builder
            .clone()
            .unwrap_or_else(|| Arc::new(crate::engine::build_with_engine))
    }
}

/// `1.N`, N from 0 to the headers' minor version.
fn parse_api_version(value: &str) -> Result<ze_api_version_t, String> {
    let bad = || {
        format!(
            "expected 1.N with N from 0 to {} (the specification version to emulate)",
            HEADER_API_VERSION.minor()
        )
    };
    let (major, minor) = value.split_once('.').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(bad());
    }
    let version = make_version(
        major.parse().map_err(|_| bad())?,
        minor.parse().map_err(|_| bad())?,
    );
    check_api_version(version)?;
    Ok(version)
}

fn check_api_version(version: ze_api_version_t) -> Result<(), String> {
    if version.major() != 1 || version.minor() > HEADER_API_VERSION.minor() {
        return Err(format!(
            "API version {}.{}: this driver implements 1.0 to 1.{} (its headers' version)",
            version.major(),
            version.minor(),
            HEADER_API_VERSION.minor()
        ));
    }
    Ok(())
}

/// Every name must be a function of the headers.
fn check_function_names(names: &[String]) -> Result<(), String> {
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !FUNCTIONS.iter().any(|f| f.name == n.as_str()))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not Level Zero functions of the 1.{} headers: {}",
            HEADER_API_VERSION.minor(),
            unknown.join(", ")
        ))
    }
}

fn parse_u64(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| "expected a non-negative integer".to_string())
}

fn nonzero(n: u64) -> Result<u64, String> {
    if n == 0 {
        Err("must not be zero".into())
    } else {
        Ok(n)
    }
}

/// A size in bytes: a number with an optional `K`, `M`, `G` or `T` suffix (powers of 1024; an
/// optional trailing `B` or `iB` is accepted: `512M`, `4G`, `4GiB`, `65536`).
pub fn parse_size(value: &str) -> Result<u64, String> {
    let upper = value.trim().to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 10),
        Some('M') => (&body[..body.len() - 1], 20),
        Some('G') => (&body[..body.len() - 1], 30),
        Some('T') => (&body[..body.len() - 1], 40),
        _ => (body, 0),
    };
    let n = digits
        .trim()
        .parse::<u64>()
        .map_err(|_| "expected a size such as 65536, 512M or 4G".to_string())?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| "size too large".to_string())
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected 0 or 1".into()),
    }
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sizes_accept_suffixes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn every_variable_is_parsed() {
        let (c, errors) = Config::from_vars(vars(&[
            ("LEVEL_ZERO_CPU_DEVICES", "3"),
            ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "512M"),
            ("LEVEL_ZERO_CPU_MAX_ALLOC", "64M"),
            ("LEVEL_ZERO_CPU_P2P", "0"),
            ("LEVEL_ZERO_CPU_HIDE_EXTENSIONS", "a, b"),
            (
                "LEVEL_ZERO_CPU_NULL_EXTENSION_FUNCTIONS",
                "zeDeviceGetVectorWidthPropertiesExt",
            ),
            ("LEVEL_ZERO_CPU_FAIL_ALLOC_AT", "2"),
            ("LEVEL_ZERO_CPU_DEVICE_LOST_AFTER", "0"),
            ("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "1500"),
            ("LEVEL_ZERO_CPU_FAIL_MODULE_BUILD", "1"),
            ("LEVEL_ZERO_CPU_DEVICE_TYPE", "GPU"),
            ("LEVEL_ZERO_CPU_SUBDEVICES", "4"),
            ("LEVEL_ZERO_CPU_QUEUE_GROUPS", "simple"),
            ("LEVEL_ZERO_CPU_LOG", "debug"),
            ("ZE_FLAT_DEVICE_HIERARCHY", "COMBINED"),
            ("ZE_AFFINITY_MASK", "0,3"),
            ("PATH", "/bin"),
        ]));
        assert_eq!(errors, vec![]);
        assert_eq!(c.devices, 3);
        assert_eq!(c.device_memory, 512 << 20);
        assert_eq!(c.max_alloc_size(), 64 << 20);
        assert!(!c.p2p);
        assert_eq!(c.hidden_extensions, ["a", "b"]);
        assert_eq!(
            c.null_extension_functions,
            ["zeDeviceGetVectorWidthPropertiesExt"]
        );
        assert_eq!(c.fail_alloc_at, Some(2));
        assert_eq!(c.device_lost_after, Some(0));
        assert_eq!(c.command_delay, Some(Duration::from_micros(1500)));
        assert!(c.fail_module_build);
        assert_eq!(c.device_type, DeviceType::Gpu);
        assert_eq!(c.subdevices, 4);
        assert_eq!(c.queue_groups, QueueGroups::Simple);
        assert_eq!(c.log, Some(log::Level::Debug));
        assert_eq!(c.hierarchy, Hierarchy::Combined);
        assert_eq!(c.affinity_mask.as_deref(), Some("0,3"));
    }

    #[test]
    fn topology_defaults_and_malformed_values() {
        let c = Config::default();
        assert_eq!(
            (
                c.subdevices,
                c.hierarchy,
                c.queue_groups,
                c.log,
                c.affinity_mask
            ),
            (0, Hierarchy::Flat, QueueGroups::Gpu, None, None)
        );
        let (c, errors) = Config::from_vars(vars(&[
            ("LEVEL_ZERO_CPU_SUBDEVICES", "1"),
            ("LEVEL_ZERO_CPU_SUBDEVICES", "17"),
            ("LEVEL_ZERO_CPU_QUEUE_GROUPS", "cpu"),
            ("LEVEL_ZERO_CPU_LOG", "loud"),
            ("ZE_FLAT_DEVICE_HIERARCHY", "flat"),
            ("ZE_ENABLE_PCI_ID_DEVICE_ORDER", "1"),
        ]));
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert_eq!(c.subdevices, 0);
        assert_eq!(c.hierarchy, Hierarchy::Flat);
    }

    #[test]
    fn api_version_and_hidden_functions_are_checked_and_fatal() {
        let (c, errors) = Config::from_vars(vars(&[
            ("LEVEL_ZERO_CPU_API_VERSION", "1.5"),
            (
                "LEVEL_ZERO_CPU_HIDE_FUNCTIONS",
                "zeDeviceSynchronize, zeKernelSetGlobalOffsetExp",
            ),
        ]));
        assert_eq!(errors, vec![]);
        assert_eq!(c.api_version, make_version(1, 5));
        assert_eq!(
            c.hidden_functions,
            ["zeDeviceSynchronize", "zeKernelSetGlobalOffsetExp"]
        );
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(Config::default().api_version, HEADER_API_VERSION);
        for bad in [
            "1.18", "2.0", "0.9", "1", "1.", ".5", "1.5.0", "one.five", "1.-1", "",
        ] {
            let (c, errors) = Config::from_vars(vars(&[("LEVEL_ZERO_CPU_API_VERSION", bad)]));
            assert_eq!(errors.len(), 1, "{bad:?}");
            assert!(errors[0].is_fatal());
            let text = errors[0].to_string();
            assert!(text.starts_with("LEVEL_ZERO_CPU_API_VERSION="), "{text}");
            assert!(text.contains("does not initialise"), "{text}");
            assert_eq!(c.api_version, HEADER_API_VERSION);
        }
        let (_, errors) = Config::from_vars(vars(&[(
            "LEVEL_ZERO_CPU_HIDE_FUNCTIONS",
            "zeDeviceSynchronize,zeNoSuchThing",
        )]));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].is_fatal());
        assert!(
            errors[0].to_string().contains("zeNoSuchThing"),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].reason.ends_with(": zeNoSuchThing"),
            "{}",
            errors[0].reason
        );
        let mut c = Config {
            api_version: make_version(1, 99),
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().contains("1.99"));
        c.api_version = make_version(1, 0);
        c.hidden_functions = vec!["zeBogus".into()];
        assert!(c.validate().unwrap_err().contains("zeBogus"));
        // Other variables' errors stay ignorable.
        let (_, errors) = Config::from_vars(vars(&[("LEVEL_ZERO_CPU_DEVICES", "two")]));
        assert!(!errors[0].is_fatal());
        assert!(errors[0].to_string().ends_with("ignored"));
    }

    #[test]
    fn malformed_and_unknown_variables_are_reported_and_ignored() {
        let (c, errors) = Config::from_vars(vars(&[
            ("LEVEL_ZERO_CPU_DEVICES", "two"),
            ("LEVEL_ZERO_CPU_DEVICE_MEMORY", "0"),
            ("LEVEL_ZERO_CPU_P2P", "maybe"),
            ("LEVEL_ZERO_CPU_COMMAND_DELAY_US", "-5"),
            ("LEVEL_ZERO_CPU_DEVICE_TYPE", "fpga"),
            ("LEVEL_ZERO_CPU_DEVICS", "1"),
        ]));
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[5].to_string().contains("unknown"));
        assert_eq!(c.device_type, DeviceType::Cpu);
        assert_eq!(c.command_delay, None);
        assert_eq!(c.devices, 2);
        assert_eq!(c.device_memory, 4 << 30);
        assert!(c.p2p);
        assert_eq!(c.max_alloc_size(), 1 << 30);
    }
}
