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
NOVALIDATE="atomics64.O0 atomics64.O2 block_order.O2"

validate() {
  local spv=$1 base
  base=$(basename "$spv" .spv)
  for skip in $NOVALIDATE; do
    if [ "$skip" = "$base" ]; then
      echo "skip-validate $spv (listed in NOVALIDATE)"
      return 0
    fi
  done
  "$SPIRV_VAL" --target-env opencl1.2 "$spv"
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
    flags=(-cl-std=CL1.2 -target spir64 "-$opt" -emit-llvm -c)
    # The -O2 vectorizers emit LLVM `freeze`, which llvm-spirv-15 cannot translate.
    [ "$opt" = O2 ] && flags+=(-fno-vectorize -fno-slp-vectorize)
    "$CLANG" "${flags[@]}" "$cl" -o "$tmp/$name.$opt.bc"
    "$LLVM_SPIRV" --spirv-max-version=1.0 "$tmp/$name.$opt.bc" -o "spv/$name.$opt.spv"
    validate "spv/$name.$opt.spv"
  done
done
echo "built and validated $(ls spv/*.spv | wc -l) modules"
