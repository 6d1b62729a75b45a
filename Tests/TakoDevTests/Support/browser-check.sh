#!/usr/bin/env bash
# Proves a real browser (Debian's headless Chromium) trusts Tako's dev CA.
#
# Usage: browser-check.sh CA_CERT_PATH HOST HTTPS_PORT EXPECTED_TEXT
#
# Exit 0 (and print the DOM) iff https://HOST:HTTPS_PORT/ rendered EXPECTED_TEXT.
# With BROWSER_CHECK_NO_TRUST=1 the CA is NOT installed (negative self-check):
# Chromium should then hit a certificate error and the script should exit 1.
# With BROWSER_CHECK_HOME=DIR the script installs nothing: Chromium uses DIR's own NSS
# database ($DIR/.pki/nssdb), as `tako dev`'s trust step left it.
set -euo pipefail

if [ $# -ne 4 ] || [ -z "$4" ]; then
  echo "usage: $0 CA_CERT_PATH HOST HTTPS_PORT EXPECTED_TEXT" >&2
  exit 2
fi
ca=$1 host=$2 port=$3 expected=$4

# Fresh HOME: Chromium on Linux reads trust anchors from $HOME/.pki/nssdb.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${BROWSER_CHECK_HOME:-}" ]; then
  HOME=$BROWSER_CHECK_HOME
else
  HOME=$work
  db="sql:$HOME/.pki/nssdb"
  mkdir -p "$HOME/.pki/nssdb"
  certutil -d "$db" -N --empty-password
  if [ "${BROWSER_CHECK_NO_TRUST:-0}" != 1 ]; then
    # "C,," = trusted CA for TLS server auth only.
    certutil -d "$db" -A -t "C,," -n "Tako Dev CA" -i "$ca"
  fi
fi
export HOME

# No --ignore-certificate-errors: the certificate is verified normally.
# MAP rewrites only the host name, so the port is kept.
# --no-sandbox / --disable-dev-shm-usage: needed as root in a container.
status=0
dom=$(timeout 60 /usr/bin/chromium \
  --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --no-first-run --no-default-browser-check \
  --user-data-dir="$work/profile" \
  --host-resolver-rules="MAP $host 127.0.0.1" \
  --dump-dom "https://$host:$port/" 2>"$work/chromium.err") || status=$?

if [[ "$dom" == *"$expected"* ]]; then
  printf '%s\n' "$dom"
  exit 0
fi

reason="expected text not found"
if [ "$status" -eq 124 ]; then reason+=" (chromium timed out)"
elif [ "$status" -ne 0 ]; then reason+=" (chromium exit $status)"; fi
# Headless Chromium logs "Page load failed: net::ERR_..." (e.g. ERR_CERT_AUTHORITY_INVALID).
if err=$(grep -ohE 'net::ERR_[A-Z_]+' "$work/chromium.err" - <<<"$dom" | head -n 1); then
  reason+="; $err"
fi
if grep -qE 'ERR_CERT|not private' <<<"$dom"; then reason+="; certificate error page"; fi
echo "browser-check FAILED: $reason: https://$host:$port/" >&2
echo "--- DOM (first 40 lines) ---" >&2
printf '%s\n' "$dom" | head -n 40 >&2
echo "--- chromium stderr (last 40 lines, dbus noise dropped) ---" >&2
grep -v 'dbus' "$work/chromium.err" | tail -n 40 >&2 || true
exit 1
