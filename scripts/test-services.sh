#!/usr/bin/env bash
# Install (Debian packages) and start what the test suite needs beyond Python:
# a PostgreSQL server on a private loopback port, Chromium for the page tests, and a
# Java runtime for Spark in local mode (the cluster path's tests).
# Idempotent: a server already running from an earlier call is reused.
# Prints the PostgreSQL URL on its last line.
set -euo pipefail

PORT="${EARLYWARN_TEST_PG_PORT:-55432}"
CLUSTER="${EARLYWARN_TEST_PG_DIR:-/tmp/earlywarn-test-postgres}"

need_packages=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_packages+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
# PySpark 4 needs Java 17 or newer: Debian 12's default runtime is 17.
command -v java >/dev/null 2>&1 || need_packages+=(default-jre-headless)
# The page is Chinese first: screenshots need a CJK font.
fc-list :lang=zh 2>/dev/null | grep -q . || need_packages+=(fonts-wqy-microhei)
source "$(dirname "$0")/debian-packages.sh"
install_packages "${need_packages[@]}"

BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
as_owner() {
  # PostgreSQL refuses to run as root; as root, run it as the postgres user.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! as_owner "$BIN/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; then
  rm -rf "$CLUSTER"
  mkdir -p "$CLUSTER"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$CLUSTER"
  as_owner "$BIN/initdb" -D "$CLUSTER" -U earlywarn --auth=trust -E UTF8 >/dev/null
  as_owner "$BIN/pg_ctl" -D "$CLUSTER" -l "$CLUSTER/server.log" -w \
    -o "-p $PORT -k $CLUSTER -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
fi
echo "postgresql+psycopg://earlywarn@127.0.0.1:$PORT/postgres"
