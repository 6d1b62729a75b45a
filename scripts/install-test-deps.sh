#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when something is missing.
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

# command-or-file : Debian package
requirements=(
  "git:git"
  "python3:python3"
  "curl:curl"
  "/usr/include/sqlite3.h:libsqlite3-dev"
  "openssl:openssl"
  "pebble:pebble"
  "ssh:openssh-client"
  "/usr/sbin/sshd:openssh-server"
  "tar:tar"
  "gzip:gzip"
  "tmux:tmux"
  "certutil:libnss3-tools"
  "chromium:chromium"
  "/usr/lib/python3/dist-packages/h2/__init__.py:python3-h2"
)

missing=()
for requirement in "${requirements[@]}"; do
  probe=${requirement%%:*}
  package=${requirement##*:}
  if [[ $probe == /* ]]; then
    [[ -e $probe ]] || missing+=("$package")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "Installing test dependencies: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
else
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The tests start their own sshd processes on loopback addresses; the package must not start
# a system-wide one on port 22 (Debian's policy-rc.d: 101 = "do not start services").
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  added_policy=1
fi
status=0
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
if ((added_policy)); then "${sudo[@]}" rm -f "$policy"; fi
exit $status
