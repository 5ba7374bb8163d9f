//! Copies between devices.
//!
//! [`copy_peer`] copies directly (device to device, on the source device's list) when the
//! devices share a context and the source device can access the destination's memory, and
//! otherwise stages the data through host memory, as multi-GPU runtimes do for
//! integrated-to-discrete copies. It says which path it took.
//!
//! Neither path makes memory resident on the other device: only the copy's own pages move.
//! (Making every allocation resident on peer devices of a multi-device context is what
//! mirrored device memory in host memory on dual-GPU systems.)

use bytemuck::Pod;

use crate::error::{Error, Result};
use crate::list::ImmediateCommandList;
use crate::memory::{DeviceBuffer, HostBuffer};

/// How a peer copy moved the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerPath {
    /// One device-to-device copy (peer-to-peer access).
    Direct,
    /// Device to host memory, then host memory to device.
    Staged,
}

impl std::fmt::Display for PeerPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PeerPath::Direct => "direct (peer-to-peer)",
            PeerPath::Staged => "staged through host memory",
        })
    }
}

/// How [`copy_peer`] may move the data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PeerPolicy {
    /// Direct when possible, else staged.
    #[default]
    Auto,
    /// Always staged (what a runtime does when it distrusts peer access).
    StagedOnly,
}

/// Copies `src` (on one device) into `dst` (on another, or the same) and waits for the copy
/// to complete. The buffers may belong to different contexts (the copy is then staged).
///
/// Each call creates the immediate lists it copies on (and, when staging, a host buffer).
/// For repeated direct copies, keep an [`ImmediateCommandList`] of the source device and call
/// its [`copy`](ImmediateCommandList::copy): it accepts peer memory the device can access.
///
/// # Examples
///
/// ```
/// # fn main() -> level_zero::Result<()> {
/// # let rt = level_zero::Runtime::init()?;
/// # let driver = &rt.drivers()[0];
/// # let device = &driver.devices()?[0];
/// # let ctx = level_zero::Context::new(driver)?;
/// use level_zero::{DeviceBuffer, ImmediateCommandList, PeerPath, copy_peer};
/// let devices = driver.devices()?;
/// # if devices.len() < 2 { return Ok(()); }
/// let src = DeviceBuffer::<u16>::new(&ctx, &devices[0], 1000)?;
/// let dst = DeviceBuffer::<u16>::new(&ctx, &devices[1], 1000)?;
/// ImmediateCommandList::copy_engine(&ctx, &devices[0])?.fill(&src, 5u16)?;
/// match copy_peer(&dst, &src)? {
///     PeerPath::Direct => println!("peer-to-peer"),
///     PeerPath::Staged => println!("through host memory"),
/// }
/// # Ok(()) }
/// ```
pub fn copy_peer<T: Pod>(dst: &DeviceBuffer<T>, src: &DeviceBuffer<T>) -> Result<PeerPath> {
    copy_peer_with(dst, src, PeerPolicy::Auto)
}

/// [`copy_peer`] with an explicit policy.
pub fn copy_peer_with<T: Pod>(
    dst: &DeviceBuffer<T>,
    src: &DeviceBuffer<T>,
    policy: PeerPolicy,
) -> Result<PeerPath> {
    const CALL: &str = "copy_peer";
    if dst.len() != src.len() {
        return Err(Error::invalid(
            CALL,
            format!(
                "length mismatch: destination {} elements, source {}",
                dst.len(),
                src.len()
            ),
        ));
    }
    let (sd, dd) = (src.device(), dst.device());
    let same_ctx = src.context() == dst.context();
    let direct = policy == PeerPolicy::Auto
        && same_ctx
        && (sd == dd || (sd.can_access_peer(dd)? && sd.p2p_properties(dd)?.access));
    if direct {
        let mut list = ImmediateCommandList::copy_engine(src.context(), sd)?;
        list.copy(dst, src)?;
        list.synchronize()?;
        return Ok(PeerPath::Direct);
    }
    // Staged: the source device writes host memory of its context; the destination device
    // reads host memory of its own context.
    let n = src.len();
    let mut src_list = ImmediateCommandList::copy_engine(src.context(), sd)?;
    let staging = HostBuffer::<T>::new(src.context(), n)?;
    src_list.copy(&staging, src)?;
    src_list.synchronize()?;
    let mut dst_list = ImmediateCommandList::copy_engine(dst.context(), dd)?;
    if same_ctx {
        dst_list.copy(dst, &staging)?;
        dst_list.synchronize()?;
    } else {
        let mut dst_staging = HostBuffer::<T>::new(dst.context(), n)?;
        dst_staging.copy_from_slice(&staging.as_slice()?)?;
        dst_list.copy(dst, &dst_staging)?;
        dst_list.synchronize()?;
    }
    Ok(PeerPath::Staged)
}
