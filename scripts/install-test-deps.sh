#!/usr/bin/env bash
# Installs the Debian packages the interop tests drive (real Kafka clients), when missing:
# kcat (librdkafka), python3-confluent-kafka, python3-kafka, the compression modules they use, zsh (for the
# completion test), etcd-server and iproute2 (the cluster tests run etcd and brokers in network namespaces;
# Debian also starts an etcd service on 127.0.0.1:2379, which the tests leave alone);
# then the Apache Kafka peer's jars (tools/kafka-peer/install.sh).
# Needs root (or sudo). Safe to run again: it does nothing when everything is there.
set -euo pipefail
pkgs=(kcat python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard zsh etcd-server iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: ${pkgs[*]}"
else
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root to apt-get install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Apache Kafka reference peer (conformance tests, codec oracle, Java client tests, bench): its jars
# from Maven Central, cached per machine. Needs Java 17 and Maven.
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  sudo=""
  [ "$(id -u)" != 0 ] && sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven
fi
"$(dirname "$0")/../tools/kafka-peer/install.sh" >/dev/null

# Today's client releases from PyPI and the Go module proxy (test/clients/install.sh).
"$(dirname "$0")/../test/clients/install.sh"
