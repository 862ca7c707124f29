#!/usr/bin/env bash
# Installs the Debian tools the tests run, when any is missing: promtool, Prometheus and
# Alertmanager (alert rules, live dashboard queries), docker-compose (compose validation)
# and tmux (the real-terminal `openrtc top` test). Called by `.ci/run` and before `npm test`.
# It installs only as root (apt-get); otherwise it names what is missing and how to get it.
set -euo pipefail
missing=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
{ command -v prometheus-alertmanager && command -v amtool; } >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "openrtc: the tests need these Debian packages: ${missing[*]}" >&2
  echo "openrtc: install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "openrtc: installing ${missing[*]} from Debian"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
