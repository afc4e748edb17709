#!/usr/bin/env bash
# tests/imap/dovecot.sh start|stop|status [BASE_DIR]
# Runs a throwaway Dovecot IMAP server on loopback (plain $IMAP_TEST_PORT with STARTTLS, implicit
# TLS $IMAP_TEST_TLS_PORT) without systemd, for the IMAP source's tests and benchmark.
# Adapted from the project's first Dovecot test-server script: a private CA signs the server certificate
# (so tests pass the CA file, as PHI_SCAN_IMAP_CA users do), the helper may write BASE/users and
# BASE/master-users before start, and Junk / "All Mail" (\All, as on Gmail) are special-use folders.
# Everything (config, TLS cert, users, Maildirs, sockets, logs) lives under BASE_DIR.
# When invoked as root, Dovecot itself runs as the unprivileged user $IMAP_TEST_USER.
set -euo pipefail
CMD=${1:-start}
BASE=${2:-${IMAP_TEST_BASE:-/tmp/imap-test}}
PLAIN_PORT=${IMAP_TEST_PORT:-1143}
TLS_PORT=${IMAP_TEST_TLS_PORT:-1993}
RUN_AS=${IMAP_TEST_USER:-imaptest}
DOVECOT=${DOVECOT_BIN:-/usr/sbin/dovecot}

as_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi; }

case "$CMD" in
start)
  command -v "$DOVECOT" >/dev/null || { echo "dovecot missing: apt-get install -y --no-install-recommends dovecot-imapd" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    id "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    U=$RUN_AS; G=$(id -gn "$RUN_AS")
  else
    U=$(id -un); G=$(id -gn)
  fi
  UID_N=$(id -u "$U"); GID_N=$(id -g "$U")
  mkdir -p "$BASE"/{run,state,log,tls,mail}
  # A private CA and a server certificate it signs, for 127.0.0.1/localhost.
  if [ ! -s "$BASE/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=phi-scan test CA" \
      -keyout "$BASE/tls/ca-key.pem" -out "$BASE/tls/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$BASE/tls/key.pem" -out "$BASE/tls/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$BASE/tls/ext.cnf"
    openssl x509 -req -in "$BASE/tls/server.csr" -CA "$BASE/tls/ca.pem" -CAkey "$BASE/tls/ca-key.pem" \
      -CAcreateserial -days 2 -extfile "$BASE/tls/ext.cnf" -out "$BASE/tls/cert.pem" 2>/dev/null
    chmod 644 "$BASE/tls/ca.pem"
  fi
  # users: name:{PLAIN}password:::::: (uid/gid/home come from userdb default_fields)
  [ -s "$BASE/users" ] || printf '%s\n' \
    'alice:{PLAIN}alicepw::::::' 'bob:{PLAIN}bobpw::::::' 'carol@tenant.test:{PLAIN}carolpw::::::' > "$BASE/users"
  [ -s "$BASE/master-users" ] || printf '%s\n' 'scanner:{PLAIN}masterpw::::::' > "$BASE/master-users"
  cat > "$BASE/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $BASE/run
state_dir = $BASE/state
instance_name = imaptest-$PLAIN_PORT
log_path = $BASE/log/dovecot.log
info_log_path = $BASE/log/dovecot.log
default_internal_user = $U
default_internal_group = $G
default_login_user = $U
first_valid_uid = 1
auth_failure_delay = 0
ssl = yes
ssl_cert = <$BASE/tls/cert.pem
ssl_key = <$BASE/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_master_user_separator = *
mail_location = maildir:$BASE/mail/%u/Maildir
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = create
  }
  mailbox Trash {
    special_use = \Trash
    auto = create
  }
  mailbox Junk {
    special_use = \Junk
    auto = no
  }
  mailbox "All Mail" {
    special_use = \All
    auto = no
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $BASE/users
}
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN $BASE/master-users
}
userdb {
  driver = passwd-file
  args = username_format=%u $BASE/users
  default_fields = uid=$UID_N gid=$GID_N home=$BASE/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $PLAIN_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $TLS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
  # mode 0 = auth process cannot reach it = anvil auth penalty disabled
  # (otherwise every login from 127.0.0.1 after a failed one waits 2..15 s)
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF
  [ "$(id -u)" = 0 ] && chown -R "$U:$G" "$BASE"
  chmod 711 "$BASE"/tls
  # The daemon must not hold the caller's stdout/stderr open (a Node parent would wait for EOF).
  as_user "$DOVECOT" -c "$BASE/dovecot.conf" </dev/null >>"$BASE/log/start.log" 2>&1
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$PLAIN_PORT) 2>/dev/null && { echo "dovecot up: imap://127.0.0.1:$PLAIN_PORT imaps://127.0.0.1:$TLS_PORT base=$BASE"; exit 0; }
    sleep 0.1
  done
  echo "dovecot did not start; log:" >&2; cat "$BASE/log/dovecot.log" >&2; exit 1
  ;;
stop)
  [ -f "$BASE/dovecot.conf" ] || exit 0
  # Dovecot's own "dovecot stop" (or SIGTERM) takes 2.5-6 s here. This is a throwaway
  # server, so: SIGTERM, then SIGKILL the master after 0.5 s; its children exit
  # by themselves within ~50 ms when the master goes away.
  PID=$(cat "$BASE/run/master.pid" 2>/dev/null || true)
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    # Liveness from /proc (no procps needed on a minimal CI image); a zombie counts as gone.
    state() { sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null; }
    gone() { for p in "$@"; do case "$(state "$p")" in ""|Z) ;; *) return 1;; esac; done; }
    # A process may end between the glob and cat's read of it: cat then exits 1, and under
    # pipefail and set -e that ended this script before the kill (CI: a Dovecot left running,
    # tests/imap/dovecot-stop.test.ts). The parent is the field after "(comm)", which may hold spaces.
    children() { { cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed -n 's/^\([0-9]*\) (.*) [A-Za-z] \([0-9]*\) .*/\1 \2/p' | awk -v pp="$1" '$2 == pp { print $1 }'; }
    CHILDREN=$(children "$PID")
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 10); do gone "$PID" && break; sleep 0.05; done
    gone "$PID" || kill -KILL "$PID" 2>/dev/null || true
    # shellcheck disable=SC2086
    for _ in $(seq 1 40); do gone "$PID" $CHILDREN && break; sleep 0.05; done
  fi
  [ "${IMAP_TEST_KEEP:-0}" = 1 ] || rm -rf "$BASE"
  ;;
status)
  as_user "$DOVECOT" -c "$BASE/dovecot.conf" -a >/dev/null 2>&1 && [ -f "$BASE/run/master.pid" ] && echo running pid "$(cat "$BASE/run/master.pid")" || { echo stopped; exit 1; }
  ;;
*) echo "usage: $0 start|stop|status [BASE_DIR]" >&2; exit 2;;
esac
