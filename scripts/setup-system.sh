#!/usr/bin/env bash
# Installs the system tools livestem's tests and data generator need, from Debian's packages.
# Idempotent: does nothing when every tool is already present. Called by `npm test` (pretest).
set -euo pipefail

need=()
command -v chromium   >/dev/null 2>&1 || need+=(chromium)
command -v promtool   >/dev/null 2>&1 || need+=(prometheus)
command -v festival   >/dev/null 2>&1 || need+=(festival)
[ -d /usr/share/festival/voices/english/kal_diphone ] || need+=(festvox-kallpc16k)
[ -d /usr/share/festival/voices/english/ked_diphone ] || need+=(festvox-kdlpc16k)
command -v espeak-ng  >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox        >/dev/null 2>&1 || need+=(sox)
command -v ffmpeg     >/dev/null 2>&1 || need+=(ffmpeg)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "livestem setup: missing system packages: ${need[*]}" >&2
    echo "  run as root: apt-get update && apt-get install -y --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
else SUDO=; fi

echo "livestem setup: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
