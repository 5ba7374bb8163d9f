#!/usr/bin/env bash
# Rebuilds every tests/jit_redteam/*.cl (or DIR/*.cl) into spv/<name>.O0.spv and
# spv/<name>.O2.spv with the same flags as kernels/build.sh (clang-15 + llvm-spirv-15, CL1.2 unless the source has a
# `// build: -cl-std=CL2.0` line, `// clang: FLAGS` for extra flags) and validates them.
# These kernels are not the repository's kernels: they are the JIT's red-team set
# (tests/jit_redteam.rs runs each on both engines).
set -euo pipefail
# A DIR argument builds that directory's kernels instead (tests/jit_simd, tests/jit_vector
# call this script so).
cd "${1:-$(dirname "$0")}"
CLANG=${CLANG:-clang-15}
LLVM_SPIRV=${LLVM_SPIRV:-llvm-spirv-15}
SPIRV_VAL=${SPIRV_VAL:-spirv-val}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p spv
for cl in *.cl; do
  name=${cl%.cl}
  std=$(sed -n 's|^// build: -cl-std=\(CL[0-9.]*\).*|\1|p' "$cl" | head -n 1)
  std=${std:-CL1.2}
  read -r -a extra <<<"$(sed -n 's|^// clang: \(.*\)|\1|p' "$cl" | head -n 1)"
  for opt in O0 O2; do
    flags=("-cl-std=$std" -target spir64 "-$opt" -emit-llvm -c)
    [ "$opt" = O2 ] && flags+=(-fno-vectorize -fno-slp-vectorize)
    "$CLANG" "${flags[@]}" "${extra[@]}" "$cl" -o "$tmp/$name.$opt.bc"
    "$LLVM_SPIRV" --spirv-max-version=1.0 "$tmp/$name.$opt.bc" -o "spv/$name.$opt.spv"
    case $std in CL2.0) env=opencl2.0 ;; *) env=opencl1.2 ;; esac
    "$SPIRV_VAL" --target-env "$env" "spv/$name.$opt.spv" || echo "spirv-val rejected spv/$name.$opt.spv (kept: it may still run)"
  done
done
echo "built $(ls spv/*.spv | wc -l) modules"
