//! The device-memory arena: one sparse `memfd` per driver instance, from which device
//! allocations and physical memory objects take page-granular ranges.
//!
//! Ranges are mapped `MAP_SHARED` from the arena, so that the same pages can be mapped again:
//! at another address of this process (`zeVirtualMemMap`), or in another process that opens
//! the arena through `/proc/<pid>/fd/<fd>` (IPC, `zeMemOpenIpcHandle`). A released range is
//! punched out of the file (`fallocate(FALLOC_FL_PUNCH_HOLE)`): its memory goes back to the
//! system and the range reads as zeros when it is handed out again.
//!
//! The first [`DIRECTORY`] bytes of the arena are the export directory: a header (magic and a
//! random nonce naming this arena) and one 64-byte record per exported allocation (what an IPC
//! handle names by slot). Importers count their open mappings in the record, so that the
//! exporter does not hand the range out again while another process still maps it.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::sync::lock;

/// Granularity of arena ranges: the system page.
pub(crate) const GRANULE: usize = 4096;
/// Bytes of the export directory at the start of the arena.
pub(crate) const DIRECTORY: usize = 1 << 20;
/// Bytes of one directory record.
pub(crate) const RECORD: usize = 64;
/// Records of the directory (record 0 is the header).
const SLOTS: u32 = (DIRECTORY / RECORD) as u32;
/// The directory header's magic ("L0CPUARN").
pub(crate) const ARENA_MAGIC: u64 = 0x4e52_4155_5043_304c;
/// A live record's magic.
pub(crate) const RECORD_LIVE: u32 = 0x4c49_5645;
/// The record of an allocation freed while other processes still map it.
pub(crate) const RECORD_FREED: u32 = 0x4652_4545;

/// One record of the export directory, in shared memory.
#[repr(C)]
pub(crate) struct Record {
    /// [`RECORD_LIVE`], [`RECORD_FREED`], or 0 (unused).
    pub(crate) state: AtomicU32,
    _pad: u32,
    /// The allocation id (`zeMemGetAllocProperties`'s `id`) of the exporter.
    pub(crate) id: AtomicU64,
    /// Offset and size of the range in the arena.
    pub(crate) offset: AtomicU64,
    pub(crate) size: AtomicU64,
    /// Mappings of the range opened by importers (any process) and not closed yet.
    pub(crate) opens: AtomicU64,
    _rest: [u64; 3],
}

const _: () = assert!(std::mem::size_of::<Record>() == RECORD);

/// The arena of one instance.
pub(crate) struct Arena {
    fd: OwnedFd,
    /// A random number naming this arena (in the directory header and in IPC handles).
    pub(crate) nonce: u64,
    /// The directory, mapped shared.
    directory: NonNull<u8>,
    state: Mutex<State>,
}

// SAFETY: the directory mapping is shared memory accessed only through atomics (records) or
// written once before the arena is shared (the header); the rest is behind a mutex.
unsafe impl Send for Arena {}
// SAFETY: as above.
unsafe impl Sync for Arena {}

#[derive(Default)]
struct State {
    /// Bytes of the file (its size).
    end: u64,
    /// Free ranges: offset → length.
    free: BTreeMap<u64, u64>,
    /// Freed exported ranges still mapped by importers: (slot, offset, length).
    deferred: Vec<(u32, u64, u64)>,
    /// Directory slots given back.
    free_slots: Vec<u32>,
    /// The next never-used slot.
    next_slot: u32,
}

fn errno() -> String {
    std::io::Error::last_os_error().to_string()
}

impl Arena {
    /// A new arena: an empty memfd with its directory.
    pub(crate) fn new() -> Result<Arena, String> {
        // Miri cannot run `memfd_create` (it would stop the interpreter, not fail the call).
        if cfg!(miri) {
            return Err("memfd_create is not available under Miri".into());
        }
        // SAFETY: a NUL-terminated name and flags; returns a new descriptor or -1.
        let raw =
            unsafe { libc::memfd_create(c"level-zero-cpu-arena".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(format!("memfd_create: {}", errno()));
        }
        // SAFETY: a descriptor just returned to us, owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: a valid descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), DIRECTORY as libc::off_t) } != 0 {
            return Err(format!("ftruncate of the arena: {}", errno()));
        }
        // SAFETY: a shared mapping of the first DIRECTORY bytes of our file, at an address
        // the system chooses.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                DIRECTORY,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("mmap of the arena directory: {}", errno()));
        }
        let mut nonce = 0u64;
        // SAFETY: `nonce` is 8 writable bytes.
        let n = unsafe { libc::getrandom((&raw mut nonce).cast(), 8, 0) };
        if n != 8 {
            nonce = crate::sync::now_ns() ^ u64::from(std::process::id()) << 32;
        }
        // SAFETY: the directory is mapped, writable, and not yet shared with anyone.
        unsafe {
            p.cast::<u64>().write(ARENA_MAGIC);
            p.cast::<u64>().add(1).write(nonce);
        }
        Ok(Arena {
            fd,
            nonce,
            directory: NonNull::new(p.cast()).ok_or("mmap returned null")?,
            state: Mutex::new(State {
                end: DIRECTORY as u64,
                next_slot: 1,
                ..State::default()
            }),
        })
    }

    /// The arena's file descriptor (valid as long as the instance: instances are never freed).
    pub(crate) fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// A record of the directory.
    pub(crate) fn record(&self, slot: u32) -> &Record {
        assert!(slot > 0 && slot < SLOTS);
        // SAFETY: the directory is mapped for the arena's life; `slot` is in bounds; records
        // are 64-byte aligned atomics.
        unsafe {
            &*self
                .directory
                .as_ptr()
                .add(slot as usize * RECORD)
                .cast::<Record>()
        }
    }

    /// Gives back freed exported ranges that no importer maps any more.
    fn reclaim(&self, s: &mut State) {
        let mut i = 0;
        while i < s.deferred.len() {
            let (slot, offset, len) = s.deferred[i];
            if self.record(slot).opens.load(Ordering::SeqCst) == 0 {
                s.deferred.swap_remove(i);
                self.record(slot).state.store(0, Ordering::SeqCst);
                s.free_slots.push(slot);
                self.punch(s, offset, len);
            } else {
                i += 1;
            }
        }
    }

    /// `len` bytes (a multiple of [`GRANULE`]) of zeros: their offset in the arena.
    pub(crate) fn take(&self, len: u64) -> Result<u64, String> {
        let mut s = lock(&self.state);
        if !s.deferred.is_empty() {
            self.reclaim(&mut s);
        }
        if let Some((&off, &l)) = s.free.iter().find(|(_, l)| **l >= len) {
            s.free.remove(&off);
            if l > len {
                s.free.insert(off + len, l - len);
            }
            return Ok(off);
        }
        let off = s.end;
        let end = off.checked_add(len).ok_or("arena offset overflow")?;
        // SAFETY: a valid descriptor; growing a memfd allocates nothing until pages are used.
        if unsafe { libc::ftruncate(self.fd.as_raw_fd(), end as libc::off_t) } != 0 {
            return Err(format!(
                "ftruncate of the arena to {end} bytes: {}",
                errno()
            ));
        }
        s.end = end;
        Ok(off)
    }

    /// Gives a range back (its pages to the system). An exported range (`slot`) still
    /// mapped by an importer is given back once the last importer closes it.
    pub(crate) fn give_back(&self, offset: u64, len: u64, slot: Option<u32>) {
        let mut s = lock(&self.state);
        if let Some(slot) = slot {
            let r = self.record(slot);
            r.state.store(RECORD_FREED, Ordering::SeqCst);
            if r.opens.load(Ordering::SeqCst) != 0 {
                s.deferred.push((slot, offset, len));
                return;
            }
            r.state.store(0, Ordering::SeqCst);
            s.free_slots.push(slot);
        }
        self.punch(&mut s, offset, len);
    }

    fn punch(&self, s: &mut State, offset: u64, len: u64) {
        // SAFETY: a valid descriptor and a range of our file; the hole reads as zeros.
        unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                offset as libc::off_t,
                len as libc::off_t,
            )
        };
        let (mut off, mut len) = (offset, len);
        if let Some((&p, &pl)) = s.free.range(..off).next_back()
            && p + pl == off
        {
            s.free.remove(&p);
            off = p;
            len += pl;
        }
        if let Some(&nl) = s.free.get(&(off + len)) {
            s.free.remove(&(off + len));
            len += nl;
        }
        s.free.insert(off, len);
    }

    /// A directory record for an exported range: its slot.
    pub(crate) fn export(&self, id: u64, offset: u64, size: u64) -> Result<u32, String> {
        let mut s = lock(&self.state);
        let slot = match s.free_slots.pop() {
            Some(slot) => slot,
            None if s.next_slot < SLOTS => {
                s.next_slot += 1;
                s.next_slot - 1
            }
            None => {
                return Err(format!(
                    "{} allocations are exported already (the arena's directory is full)",
                    SLOTS - 1
                ));
            }
        };
        let r = self.record(slot);
        // `opens` is left as it is: a slot is given back only at zero, and an importer racing
        // with a stale handle undoes its own count (resetting it here could lose that).
        r.id.store(id, Ordering::SeqCst);
        r.offset.store(offset, Ordering::SeqCst);
        r.size.store(size, Ordering::SeqCst);
        r.state.store(RECORD_LIVE, Ordering::SeqCst);
        Ok(slot)
    }

    /// Maps `len` bytes of the arena at `offset` shared, readable and writable: at `at`
    /// (replacing what is there: the caller owns those pages) or where the system chooses,
    /// aligned to `align` (a power of two).
    pub(crate) fn map(
        &self,
        offset: u64,
        len: usize,
        at: Option<usize>,
        align: usize,
    ) -> Result<usize, String> {
        map_fd(self.fd.as_raw_fd(), offset, len, at, align)
    }
}

/// [`Arena::map`] for any descriptor.
pub(crate) fn map_fd(
    fd: i32,
    offset: u64,
    len: usize,
    at: Option<usize>,
    align: usize,
) -> Result<usize, String> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    if let Some(at) = at {
        // SAFETY: the caller owns the pages at `at` (a reservation of its own); the mapping
        // replaces them.
        let p = unsafe {
            libc::mmap(
                at as *mut _,
                len,
                prot,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd,
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("mmap of {len} bytes at {at:#x}: {}", errno()));
        }
        return Ok(p as usize);
    }
    if align <= GRANULE {
        // SAFETY: a new shared mapping at an address the system chooses.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd,
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("mmap of {len} bytes: {}", errno()));
        }
        return Ok(p as usize);
    }
    // Aligned: reserve more, map at the aligned address inside, drop the rest.
    let room = len + align;
    // SAFETY: a new inaccessible private mapping at an address the system chooses.
    let r = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            room,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if r == libc::MAP_FAILED {
        return Err(format!(
            "mmap of {room} bytes of address space: {}",
            errno()
        ));
    }
    let start = r as usize;
    let aligned = start.next_multiple_of(align);
    let result = map_fd(fd, offset, len, Some(aligned), align);
    // SAFETY: the parts of our reservation before and after the aligned mapping.
    unsafe {
        if aligned > start {
            libc::munmap(r, aligned - start);
        }
        let tail = aligned + len;
        if start + room > tail {
            libc::munmap(tail as *mut _, start + room - tail);
        }
        if result.is_err() {
            libc::munmap(aligned as *mut _, len);
        }
    }
    result
}

/// Puts an inaccessible reservation back over `[at, at + len)` (the caller's pages).
pub(crate) fn unmap_to_reserved(at: usize, len: usize) {
    // SAFETY: the caller owns the pages (part of its reservation); they become inaccessible
    // anonymous memory again.
    unsafe {
        libc::mmap(
            at as *mut _,
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
}
