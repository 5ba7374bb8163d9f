#!/usr/bin/env bash
# Rebuilds every kernels/*.cl into kernels/spv/<name>.O0.spv and kernels/spv/<name>.O2.spv and
# validates them with spirv-val. Needs Debian bookworm's clang-15, llvm-spirv-15 and
# spirv-tools (see kernels/README.md).
#   kernels/build.sh           rebuild + validate
#   kernels/build.sh --check   only validate the committed .spv files (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-15}
LLVM_SPIRV=${LLVM_SPIRV:-llvm-spirv-15}
SPIRV_VAL=${SPIRV_VAL:-spirv-val}

# Variants that llvm-spirv-15 translates into modules spirv-val rejects although they run
# (see kernels/README.md). One "name.Ox" per line; they are built, committed and tested,
# but not validated.
NOVALIDATE="atomics64.O0 atomics64.O2 block_order.O2 arbitrary_int.O0 arbitrary_int.O2 function_pointers.O0 function_pointers.O2 linked_list.O2"

# The OpenCL C version of a source: CL1.2 unless it has a line `// build: -cl-std=CL2.0`
# (program-scope __global variables and generic pointers need OpenCL C 2.0).
cl_std() {
  local std
  std=$(sed -n 's|^// build: -cl-std=\(CL[0-9.]*\).*|\1|p' "$1" | head -n 1)
  echo "${std:-CL1.2}"
}

# Extra clang flags of a source: its line `// clang: FLAGS` (extensions, `-cl-ext=...`).
cl_flags() {
  sed -n 's|^// clang: \(.*\)|\1|p' "$1" | head -n 1
}

# The SPIR-V version a source is translated to: 1.0 unless it has a line `// spirv: 1.3`
# (the khr sub-group extensions' instructions, `OpGroupNonUniform*`, need SPIR-V 1.3).
spv_version() {
  local v
  v=$(sed -n 's|^// spirv: \([0-9.]*\).*|\1|p' "$1" | head -n 1)
  echo "${v:-1.0}"
}

# The SPIR-V extensions llvm-spirv may use for a source: its line `// spirv-ext: +A,+B`.
spv_ext() {
  sed -n 's|^// spirv-ext: \(.*\)|\1|p' "$1" | head -n 1
}

validate() {
  local spv=$1 base env
  base=$(basename "$spv" .spv)
  case $(spv_version "${base%.*}.cl")/$(cl_std "${base%.*}.cl") in
    1.0/*CL2.0) env=opencl2.0 ;;
    1.0/*) env=opencl1.2 ;;
    # No OpenCL environment of spirv-val takes SPIR-V 1.1 to 1.3 modules of OpenCL C 2.0.
    *) env=spv$(spv_version "${base%.*}.cl") ;;
  esac
  for skip in $NOVALIDATE; do
    if [ "$skip" = "$base" ]; then
      echo "skip-validate $spv (listed in NOVALIDATE)"
      return 0
    fi
  done
  "$SPIRV_VAL" --target-env "$env" "$spv"
}

if [ "${1:-}" = "--check" ]; then
  for spv in spv/*.spv; do validate "$spv"; done
  echo "spirv-val: all committed modules valid"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for cl in *.cl; do
  name=${cl%.cl}
  for opt in O0 O2; do
    flags=("-cl-std=$(cl_std "$cl")" -target spir64 "-$opt" -emit-llvm -c)
    # The -O2 vectorizers emit LLVM `freeze`, which llvm-spirv-15 cannot translate.
    [ "$opt" = O2 ] && flags+=(-fno-vectorize -fno-slp-vectorize)
    read -r -a extra <<<"$(cl_flags "$cl")"
    spv_flags=("--spirv-max-version=$(spv_version "$cl")")
    ext=$(spv_ext "$cl")
    [ -n "$ext" ] && spv_flags+=("--spirv-ext=$ext")
    "$CLANG" "${flags[@]}" "${extra[@]}" "$cl" -o "$tmp/$name.$opt.bc"
    "$LLVM_SPIRV" "${spv_flags[@]}" "$tmp/$name.$opt.bc" -o "spv/$name.$opt.spv"
    validate "spv/$name.$opt.spv"
  done
done
echo "built and validated $(ls spv/*.spv | wc -l) modules"
