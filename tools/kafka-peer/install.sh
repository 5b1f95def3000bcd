#!/usr/bin/env bash
# Installs the Apache Kafka reference peer (broker, tools, clients, Streams) from Maven Central into a
# per-machine cache, so the conformance tests, the codec oracle, the Java client tests and the benchmark
# pay the download once per machine. Prints the cache directory. Safe to run again.
#   SLUICE_KAFKA_HOME  where to put it (default ~/.cache/sluice/kafka-<version>)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
home="${SLUICE_KAFKA_HOME:-$HOME/.cache/sluice/kafka-$version}"
if [ -f "$home/libs/.complete" ]; then
  echo "$home"
  exit 0
fi
command -v mvn >/dev/null || { echo "kafka peer: mvn is not installed (Debian package maven)" >&2; exit 1; }
mkdir -p "$home"
rm -rf "$home/libs.partial"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$home/libs.partial" >&2
touch "$home/libs.partial/.complete"
rm -rf "$home/libs"
mv "$home/libs.partial" "$home/libs"
echo "$home"
