#!/usr/bin/env bash
# Installs today's client releases that the interop tests drive beyond Debian's packages, into per-machine
# caches keyed by what is pinned, so a second run costs nothing:
#   - confluent-kafka-python (bundled librdkafka) from PyPI into a venv: ~/.cache/sluice/py-clients-<hash>
#   - franz-go (kgo, kadm) from the Go module proxy: test/clients/go built to ~/.cache/sluice/franz-scenario-<hash>
# Safe to run again. Prints nothing on success but a line per client.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SLUICE_CLIENTS_CACHE:-$HOME/.cache/sluice}"
mkdir -p "$cache"

req="$here/python/requirements.txt"
venv="$cache/py-clients-$(sha256sum "$req" | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  py=""
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -m venv --help >/dev/null 2>&1; then py="$candidate"; break; fi
  done
  if [ -z "$py" ]; then
    [ "$(id -u)" = 0 ] || { echo "python3 -m venv is missing (Debian package python3-venv)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
    py=/usr/bin/python3
  fi
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  touch "$venv/.complete"
fi
echo "python clients: $venv"

# franz-go: the scenario binary, built once per source version (go build fetches the pinned modules).
gosrc="$here/go"
bin="$cache/franz-scenario-$(cat "$gosrc/go.mod" "$gosrc/go.sum" "$gosrc/main.go" | sha256sum | cut -c1-12)"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "go is not installed: the franz-go tests need it" >&2; exit 1; }
  (cd "$gosrc" && go build -o "$bin.partial" . && mv "$bin.partial" "$bin")
fi
echo "franz-go scenario: $bin"
