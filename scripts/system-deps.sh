#!/usr/bin/env bash
# Installs the Debian packages that lakekit's tagged tests need, if missing:
# Tesseract (rekog/tesseract), GStreamer (kvs camera source), the
# independent validators of what the project writes (ffprobe, mkvinfo), and
# Chromium for the text-detection page's browser test.
set -euo pipefail

pkgs=(
  pkg-config
  tesseract-ocr tesseract-ocr-eng libtesseract-dev libleptonica-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  ffmpeg mkvtoolnix
  chromium
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
