#!/usr/bin/env bash
# Installs the system packages the project needs on a fresh Debian 12 (bookworm) machine:
# Mesa 25's lavapipe (CPU Vulkan) from bookworm-backports, because bookworm's Mesa 22 gives Dawn no
# WebGPU adapter (measured; see docs/PLATFORM.md). Idempotent: does nothing when already installed.
set -euo pipefail
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^25'; then
  echo "install-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
src=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$src" ]; then
  $SUDO tee "$src" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-system: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
