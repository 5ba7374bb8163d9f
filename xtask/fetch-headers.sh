#!/usr/bin/env bash
# Fetches the Level Zero headers the bindings are generated from: Debian sid's libze-dev
# (1.32.0, API version 1.17), through a temporary apt source list that reuses this machine's
# Debian mirror with the suite changed to sid. Nothing is installed: the package is
# downloaded and unpacked with `dpkg -x`.
#
#   xtask/fetch-headers.sh [DEST]     (default: target/level-zero-headers)
#
# Prints the headers directory (DEST/usr/include/level_zero) on its last line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/target/level-zero-headers}
version=1.32.0-1

if grep -qs "ZE_API_VERSION_1_17" "$dest/usr/include/level_zero/ze_api.h"; then
  echo "$dest/usr/include/level_zero"
  exit 0
fi

# The Debian mirror this machine already uses (deb822 or one-line format).
mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -v -e security -e nodesource -e google | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//' \
  | awk '{print $1}' | grep -m1 debian || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/sources"
cat > "$work/sources/sid.sources" <<SRC
Types: deb
URIs: $mirror
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources"
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
apt-get "${opts[@]}" -q update >&2
cd "$work"
if ! apt-get "${opts[@]}" -q download "libze-dev=$version" >&2; then
  echo "libze-dev $version is no longer in sid; taking sid's current libze-dev" >&2
  apt-get "${opts[@]}" -q download libze-dev >&2
fi
rm -rf "$dest"
mkdir -p "$dest"
dpkg -x ./libze-dev_*.deb "$dest"
echo "unpacked $(ls libze-dev_*.deb) into $dest" >&2
echo "$dest/usr/include/level_zero"
