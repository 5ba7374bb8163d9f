#!/usr/bin/env bash
# Rebuilds every tests/jit_rounds/*.cl into spv/<name>.O0.spv and spv/<name>.O2.spv, as
# tests/jit_redteam/build.sh does its own (same flags and validation). These kernels are
# the red-team set for the JIT's rounds between barriers on the vector path: values of every
# width saved in the frame, barriers reached from several round starts, the shortcut to the
# next chunk after one saved whole, chunks diverging in some rounds only
# (tests/jit_rounds.rs runs each on both engines).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../jit_redteam/build.sh" "$here"
