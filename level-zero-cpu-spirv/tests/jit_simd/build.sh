#!/usr/bin/env bash
# Rebuilds every tests/jit_simd/*.cl into spv/<name>.O0.spv and spv/<name>.O2.spv, as
# tests/jit_redteam/build.sh does its own (same flags and validation). These kernels are
# the red-team set for the JIT's vectorisation across work-items
# (tests/jit_simd.rs runs each on both engines).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../jit_redteam/build.sh" "$here"
