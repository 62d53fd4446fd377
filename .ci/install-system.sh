#!/usr/bin/env bash
# Installs the system packages the project needs on a Debian 12 (bookworm) machine: Mesa 25's lavapipe (CPU
# Vulkan) from bookworm-backports, because bookworm's Mesa 22 gives Dawn no WebGPU adapter (measured; see
# docs/PLATFORM.md), and Debian's chromium for the observer page's browser test (driven by playwright-core; no
# browser is downloaded). Idempotent: does nothing when already installed.
#
# The backports suite is added with the mirror this machine already uses: the URIs field of its Debian sources
# (/etc/apt/sources.list.d/debian.sources, or the `deb` lines of /etc/apt/sources.list). No host is named here.
#
# Works as root, or as a user with sudo. Without either (or off Debian) it says what it could not do and exits 3;
# the node still runs without the driver, on the TypeScript reference kernels.
set -euo pipefail
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^25' && [ -x /usr/bin/chromium ]; then
  echo "install-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) and chromium already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: no apt-get here; install Mesa >= 25 (lavapipe) by hand for WebGPU. The node runs without it on CPU kernels." >&2
  exit 3
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-system: not root and no sudo: cannot install mesa-vulkan-drivers from bookworm-backports." >&2
    echo "  As root run: bash .ci/install-system.sh   (the node runs without it, on CPU kernels)" >&2
    exit 3
  fi
fi

# The mirror this machine already uses for Debian's main suite (first URIs entry of a stanza whose Suites include
# the release itself, not -security).
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
mirror=""
keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk -v c="$codename" '
    BEGIN { RS=""; FS="\n" }
    {
      uris=""; suites=""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris = u[1] }
        if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites = " " $i " " }
      }
      if (uris != "" && index(suites, " " c " ") > 0) { print uris; exit }
    }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk -v c="$codename" '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i == c) { u = $(i-1); print u; exit } }' /etc/apt/sources.list)"
fi
if [ -z "$mirror" ]; then
  echo "install-system: could not find this machine's Debian mirror in its apt sources; add a ${codename}-backports source by hand." >&2
  exit 3
fi

src=/etc/apt/sources.list.d/${codename}-backports.sources
if [ ! -f "$src" ]; then
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: %s\n' "$mirror" "$codename" "$keyring" | $SUDO tee "$src" >/dev/null
  echo "install-system: added ${codename}-backports from $mirror"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^25'; then
  $SUDO apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
fi
echo "install-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "install-system: chromium $(dpkg-query -W -f='${Version}' chromium)"
