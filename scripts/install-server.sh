#!/usr/bin/env bash
# Installs tako-server on a Linux host. Run as root:
#
#   sudo TAKO_SSH_PUBKEY="$(cat ~/.ssh/id_ed25519.pub)" ./install-server.sh ./tako-server
#   sudo ./install-server.sh https://example.com/releases/tako-server-linux-x86_64
#
# - creates the `tako` user and group (the deploy user, owner of /opt/tako),
# - installs the binary (a path or an http(s) URL) as /opt/tako/bin/tako-server, owned by
#   tako so that `tako servers upgrade` can replace it over SSH, with /usr/local/bin/tako-server
#   linking to it (on the PATH for `tako-server ctl`),
# - creates /opt/tako (data) and /var/run/tako (the management socket, group tako),
# - lets tako-server bind ports 80 and 443 without root (setcap cap_net_bind_service),
# - authorises TAKO_SSH_PUBKEY (if set) for ssh as tako,
# - with systemd: installs and starts tako-server.service and checks it is active;
#   without: says how to start it.
# Safe to run again: with systemd, a running server is restarted gracefully (systemctl reload:
# the new binary takes over with no downtime).
set -euo pipefail

fail() { echo "error: $1" >&2; [ -n "${2:-}" ] && echo "hint: $2" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "install-server.sh must run as root" "run it with sudo"
[ $# -eq 1 ] || fail "give the tako-server binary: a path or an http(s) URL" "usage: install-server.sh PATH|URL"
source=$1
DATA=/opt/tako
BIN=$DATA/bin/tako-server
LINK=/usr/local/bin/tako-server
RUN=/var/run/tako

getent group tako >/dev/null || groupadd --system tako
if ! id tako >/dev/null 2>&1; then
  useradd --system --gid tako --home-dir "$DATA" --shell /bin/sh --comment "Tako deploys" tako
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
case $source in
  http://*|https://*)
    command -v curl >/dev/null || fail "curl is needed to download $source" "apt-get install curl, or pass a local path"
    curl -fsSL --proto '=https,http' -o "$tmp" "$source" || fail "cannot download $source" "check the URL" ;;
  *)
    [ -f "$source" ] || fail "$source does not exist" "pass the path of a tako-server binary"
    cp "$source" "$tmp" ;;
esac
chmod 0755 "$tmp"
"$tmp" --version >/dev/null 2>&1 || fail "$source is not a tako-server binary for this machine" "download the Linux build for $(uname -m)"
install -d -m 0750 -o tako -g tako "$DATA"
install -d -m 0755 -o tako -g tako "$DATA/bin"
install -d -m 0750 -o tako -g tako "$RUN"
# Written beside the target and renamed over it: a running server keeps its old file, and
# the path is never missing or half-written.
install -m 0755 -o tako -g tako "$tmp" "$BIN.new"
mv -f "$BIN.new" "$BIN"
# An earlier install kept the binary itself at the link's path.
ln -sfn "$BIN" "$LINK"
echo "installed $BIN ($("$BIN" --version)), linked from $LINK"
# Under systemd the unit grants the capability (AmbientCapabilities), which survives an
# upgrade; the file capability is for hosts without systemd (a binary replaced by `tako
# servers upgrade` loses it, but the graceful handoff passes the bound sockets on, so only a
# cold start there needs this script again).
if command -v setcap >/dev/null; then
  setcap cap_net_bind_service=+ep "$BIN"
else
  echo "warning: setcap is missing (apt-get install libcap2-bin); tako-server cannot bind ports 80/443 as tako without systemd" >&2
fi

if [ -n "${TAKO_SSH_PUBKEY:-}" ]; then
  install -d -m 0700 -o tako -g tako "$DATA/.ssh"
  keys=$DATA/.ssh/authorized_keys
  touch "$keys"
  grep -qxF "$TAKO_SSH_PUBKEY" "$keys" || printf '%s\n' "$TAKO_SSH_PUBKEY" >>"$keys"
  chown tako:tako "$keys"
  chmod 0600 "$keys"
  echo "authorised the key for ssh tako@$(hostname)"
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  cat >/etc/systemd/system/tako-server.service <<UNIT
[Unit]
Description=Tako server: reverse proxy, HTTPS and app supervisor
After=network-online.target
Wants=network-online.target

[Service]
User=tako
Group=tako
# notify: active once the listeners and apps are up. A graceful restart (systemctl reload,
# SIGHUP) starts a successor that sends MAINPID= itself, hence NotifyAccess=all; the unit
# stays active and systemd follows the new main process while the old one drains.
Type=notify
NotifyAccess=all
ExecStart=$BIN serve
ExecReload=/bin/kill -HUP \$MAINPID
Restart=always
RestartSec=1
# Apps are children of tako-server: stopping the unit stops them all.
KillMode=control-group
# A stop drains in-flight requests and app instances first.
TimeoutStopSec=30min
AmbientCapabilities=CAP_NET_BIND_SERVICE
RuntimeDirectory=tako
RuntimeDirectoryPreserve=yes
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable tako-server.service >/dev/null
  if systemctl is-active --quiet tako-server.service; then
    # A graceful re-exec onto the new file: nothing is refused meanwhile.
    systemctl reload tako-server.service
  else
    systemctl start tako-server.service
  fi
  for _ in $(seq 50); do systemctl is-active --quiet tako-server.service && break; sleep 0.2; done
  systemctl is-active --quiet tako-server.service \
    || fail "tako-server.service did not start" "see: journalctl -u tako-server.service -n 50"
  echo "tako-server.service is active"
else
  echo "No systemd here: start tako-server as the tako user and keep it running, e.g."
  echo "  su -s /bin/sh tako -c '$BIN serve >>$DATA/server.log 2>&1 &'"
fi
echo "Next, on your machine: tako servers add $(hostname -f 2>/dev/null || hostname) --name <name>"
