#!/usr/bin/env bash
# make demo: Tako's main job, end to end, on this machine.
#
# Builds Tako, starts a throwaway host (a private sshd on a loopback address with a generated
# key, in front of a tako-server with the internal TLS issuer on unprivileged ports; all under
# one temp dir), adds it with `tako servers add`, deploys examples/hello with `tako deploy`,
# fetches the app over HTTPS through the proxy, and prints `tako servers status`. It leaves the
# host running and prints how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ADDRESS=${DEMO_ADDRESS:-127.0.0.9}

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
  step() { printf '\n==> %s\n' "$*"; }
fi
# TAKO_BIN_DIR: use binaries built already (the test of this script does).
if [ -n "${TAKO_BIN_DIR:-}" ]; then
  BIN=$TAKO_BIN_DIR
else
  ./scripts/install-test-deps.sh   # sshd, ssh, python3, curl, openssl
  step "Building Tako"
  swift build --product tako >/dev/null
  swift build --product tako-server >/dev/null
  BIN=$(swift build --show-bin-path)
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/tako-demo.XXXXXX")
HOST=$RUN/host
CLIENT=$RUN/client
mkdir -p "$HOST" "$CLIENT" "$RUN/home"
cat >"$RUN/stop.sh" <<STOP
#!/bin/sh
# Stops the demo host and removes everything it made.
[ -f "$HOST/sshd.pid" ] && kill "\$(cat "$HOST/sshd.pid")" 2>/dev/null
[ -f "$HOST/server.pid" ] && kill "\$(cat "$HOST/server.pid")" 2>/dev/null
sleep 1
rm -rf "$RUN"
echo "demo host stopped; $RUN removed"
STOP
chmod +x "$RUN/stop.sh"
failed() {
  echo "demo failed; the host's logs:" >&2
  tail -n 20 "$HOST/server.log" "$HOST/sshd.log" 2>/dev/null >&2 || true
  "$RUN/stop.sh" >&2
}
trap failed ERR

free_port() { python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$ADDRESS"; }
SSH_PORT=$(free_port); HTTP_PORT=$(free_port); HTTPS_PORT=$(free_port)

step "Starting a throwaway host: tako-server on $ADDRESS:$HTTP_PORT/$HTTPS_PORT, sshd on $ADDRESS:$SSH_PORT"
cat >"$HOST/server-config.toml" <<CONFIG
[server]
http_port = $HTTP_PORT
https_port = $HTTPS_PORT
listen = "$ADDRESS"
data_dir = "$HOST/data"
socket = "$HOST/tako.sock"

[tls]
issuer = "internal"   # certificates from a CA made on this host, as Caddy's tls internal
CONFIG
nohup "$BIN/tako-server" serve --config "$HOST/server-config.toml" >"$HOST/server.log" 2>&1 &
echo $! >"$HOST/server.pid"
for _ in $(seq 100); do [ -S "$HOST/tako.sock" ] && break; sleep 0.1; done
[ -S "$HOST/tako.sock" ] || { echo "tako-server did not start" >&2; false; }

ssh-keygen -q -t ed25519 -N "" -f "$HOST/host_key"
ssh-keygen -q -t ed25519 -N "" -C tako-demo -f "$CLIENT/id_ed25519"
cp "$CLIENT/id_ed25519.pub" "$HOST/authorized_keys"
chmod 600 "$HOST/authorized_keys"
[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
cat >"$HOST/sshd_config" <<SSHD
ListenAddress $ADDRESS:$SSH_PORT
HostKey $HOST/host_key
PidFile $HOST/sshd.pid
AuthorizedKeysFile $HOST/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
SetEnv PATH=$BIN:/usr/local/bin:/usr/bin:/bin TAKO_SERVER_CONFIG=$HOST/server-config.toml
SSHD
/usr/sbin/sshd -f "$HOST/sshd_config" -E "$HOST/sshd.log"
for _ in $(seq 50); do [ -s "$HOST/sshd.pid" ] && break; sleep 0.1; done
cat >"$CLIENT/ssh_config" <<CLIENTCONFIG
Host *
  IdentityFile $CLIENT/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $CLIENT/known_hosts
CLIENTCONFIG

export TAKO_HOME=$RUN/home TAKO_SSH_CONFIG=$CLIENT/ssh_config
tako() { "$BIN/tako" "$@"; }

step "tako servers add $ADDRESS --name demo"
tako servers add "$ADDRESS" --name demo --port "$SSH_PORT" --user "$(id -un)" --description "make demo's throwaway host"

step "tako deploy (examples/hello)"
cp -R "$REPO/examples/hello" "$RUN/hello"
(cd "$RUN/hello" && tako deploy --yes)

step "curl https://hello.tako.test:$HTTPS_PORT/ (trusting the host's CA)"
curl -sS --fail --cacert "$HOST/data/ca/ca.crt" --resolve "hello.tako.test:$HTTPS_PORT:$ADDRESS" \
  -w '(HTTP/%{http_version} %{http_code})\n' "https://hello.tako.test:$HTTPS_PORT/"

step "tako servers status"
tako servers status

trap - ERR
cat <<DONE

The demo host keeps running. Try, with TAKO_HOME=$RUN/home TAKO_SSH_CONFIG=$CLIENT/ssh_config:
  cd $RUN/hello && $BIN/tako logs          # follow the app's logs
  edit main.py, then: $BIN/tako deploy --yes
Stop it and remove everything: $RUN/stop.sh
DONE
