//! The host-side model: a byte-exact shadow of every allocation, with a "known" bit per byte,
//! and the commands a list records, applied to the shadows in program order.

use std::collections::BTreeMap;

pub type Id = u64;

/// What the program knows of an allocation's bytes.
#[derive(Clone, Debug)]
pub struct Shadow {
    bytes: Vec<u8>,
    known: Vec<bool>,
}

impl Shadow {
    /// `n` bytes, all known to be zero (host and shared allocations are zeroed).
    pub fn zeroed(n: usize) -> Shadow {
        Shadow {
            bytes: vec![0; n],
            known: vec![true; n],
        }
    }

    /// `n` unknown bytes (a new device allocation).
    pub fn unknown(n: usize) -> Shadow {
        Shadow {
            bytes: vec![0; n],
            known: vec![false; n],
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn write(&mut self, off: usize, data: &[u8]) {
        self.bytes[off..off + data.len()].copy_from_slice(data);
        self.known[off..off + data.len()].fill(true);
    }

    pub fn forget(&mut self, off: usize, len: usize) {
        self.known[off..off + len].fill(false);
    }

    pub fn forget_all(&mut self) {
        self.known.fill(false);
    }

    /// Bytes `off..off + len` and whether each is known.
    pub fn read(&self, off: usize, len: usize) -> (Vec<u8>, Vec<bool>) {
        (
            self.bytes[off..off + len].to_vec(),
            self.known[off..off + len].to_vec(),
        )
    }

    /// Compares `actual` with bytes `off..` where known; the first difference, described.
    pub fn check(&self, off: usize, actual: &[u8]) -> Result<(), String> {
        let known = &self.known[off..off + actual.len()];
        let expected = &self.bytes[off..off + actual.len()];
        for (i, ((&k, &e), &a)) in known.iter().zip(expected).zip(actual).enumerate() {
            if k && e != a {
                let lo = i.saturating_sub(4);
                let hi = (i + 8).min(actual.len());
                return Err(format!(
                    "byte {} (offset {} of the allocation) is {a:#04x}, the program order says {e:#04x}; \
                     around it: read {:02x?}, expected {:02x?} (known {:?})",
                    i,
                    off + i,
                    &actual[lo..hi],
                    &expected[lo..hi],
                    &known[lo..hi],
                ));
            }
        }
        Ok(())
    }
}

/// A byte range of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub alloc: Id,
    pub off: usize,
    pub len: usize,
}

impl Region {
    pub fn overlaps(&self, o: &Region) -> bool {
        self.alloc == o.alloc && self.off < o.off + o.len && o.off < self.off + self.len
    }
}

/// A command as the model applies it.
#[derive(Clone, Debug)]
pub enum Cmd {
    /// memmove semantics (what the CPU driver implements for overlapping ranges).
    Copy {
        dst: Region,
        src: Region,
    },
    Fill {
        dst: Region,
        pattern: Vec<u8>,
    },
    /// Unknown bytes: a device timestamp.
    Timestamp {
        dst: Region,
    },
    /// `c[i] = a[i] + b[i]` for `i < n` (f32).
    VectorAdd {
        a: Region,
        b: Region,
        c: Region,
        n: usize,
    },
    /// `y[i] = a * x[i] + y[i]` for `i < n` (f32; fused or not: a result that differs between
    /// the two is unknown).
    Saxpy {
        a: f32,
        x: Region,
        y: Region,
        n: usize,
    },
    /// A command that writes nothing (barrier, `empty_args`).
    Nop,
    Signal(Id),
    Wait(Id),
}

fn f32_at(s: &Shadow, r: &Region, i: usize) -> Option<f32> {
    let (b, k) = s.read(r.off + 4 * i, 4);
    k.iter()
        .all(|&k| k)
        .then(|| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Applies `cmd` to the shadows. Allocations the model does not have (none, by construction)
/// are ignored.
pub fn apply(cmd: &Cmd, shadows: &mut BTreeMap<Id, Shadow>) {
    match cmd {
        Cmd::Copy { dst, src } => {
            let Some(s) = shadows.get(&src.alloc) else {
                return;
            };
            let (bytes, known) = s.read(src.off, src.len);
            if let Some(d) = shadows.get_mut(&dst.alloc) {
                d.write(dst.off, &bytes);
                for (i, k) in known.iter().enumerate() {
                    if !k {
                        d.forget(dst.off + i, 1);
                    }
                }
            }
        }
        Cmd::Fill { dst, pattern } => {
            if pattern.is_empty() {
                return;
            }
            let data: Vec<u8> = (0..dst.len).map(|i| pattern[i % pattern.len()]).collect();
            if let Some(d) = shadows.get_mut(&dst.alloc) {
                d.write(dst.off, &data);
            }
        }
        Cmd::Timestamp { dst } => {
            if let Some(d) = shadows.get_mut(&dst.alloc) {
                d.forget(dst.off, 8.min(dst.len));
            }
        }
        Cmd::VectorAdd { a, b, c, n } => {
            let results: Vec<Option<f32>> = (0..*n)
                .map(|i| {
                    let x = f32_at(shadows.get(&a.alloc)?, a, i)?;
                    let y = f32_at(shadows.get(&b.alloc)?, b, i)?;
                    let r = x + y;
                    (!r.is_nan()).then_some(r)
                })
                .collect();
            store(shadows, c, &results);
        }
        Cmd::Saxpy { a, x, y, n } => {
            let results: Vec<Option<f32>> = (0..*n)
                .map(|i| {
                    let xv = f32_at(shadows.get(&x.alloc)?, x, i)?;
                    let yv = f32_at(shadows.get(&y.alloc)?, y, i)?;
                    let unfused = a * xv + yv;
                    let fused = a.mul_add(xv, yv);
                    (unfused.to_bits() == fused.to_bits() && !unfused.is_nan()).then_some(unfused)
                })
                .collect();
            store(shadows, y, &results);
        }
        Cmd::Nop | Cmd::Signal(_) | Cmd::Wait(_) => {}
    }
}

fn store(shadows: &mut BTreeMap<Id, Shadow>, r: &Region, results: &[Option<f32>]) {
    if let Some(d) = shadows.get_mut(&r.alloc) {
        for (i, v) in results.iter().enumerate() {
            match v {
                Some(v) => d.write(r.off + 4 * i, &v.to_le_bytes()),
                None => d.forget(r.off + 4 * i, 4),
            }
        }
    }
}

/// Deterministic bytes from a seed (host data for copies and guards).
pub fn data(seed: u8, salt: u64, n: usize) -> Vec<u8> {
    let mut x = (seed as u64) << 32 ^ salt ^ 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Small numbers often, so that float arithmetic stays finite and exact.
            if seed & 1 == 0 {
                (x >> 24) as u8 & 0x3f
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}
