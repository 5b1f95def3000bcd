#!/usr/bin/env bash
# Installs the Debian packages the interop tests drive (real Kafka clients), when missing:
# kcat (librdkafka), python3-confluent-kafka, python3-kafka, and the compression modules they use.
# Needs root (or sudo). Safe to run again: it does nothing when everything is there.
set -euo pipefail
pkgs=(kcat python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: ${pkgs[*]}"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "need root to apt-get install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
