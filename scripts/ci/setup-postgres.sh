#!/bin/sh
# Start a local PostgreSQL for the audit-log tests (tests marked `postgres`).
# Idempotent: installs Debian's postgresql only when missing, creates or starts one
# cluster listening on loopback only, and creates the role and database when missing.
# Exports nothing: the tests use WORKUP_TEST_POSTGRES_URL, or by default
#   postgresql+psycopg://workup:workup@127.0.0.1:5432/workup_test
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
if ! command -v pg_lsclusters >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y postgresql
fi
VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$VERSION main$"; then
    $SUDO pg_createcluster "$VERSION" main -- --auth-local=peer --auth-host=scram-sha-256
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
    $SUDO pg_ctlcluster "$VERSION" main start
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')
as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
if ! as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname='workup'" | grep -q 1; then
    as_postgres psql -p "$PORT" -qc "CREATE ROLE workup LOGIN PASSWORD 'workup'"
fi
if ! as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_database WHERE datname='workup_test'" | grep -q 1; then
    as_postgres psql -p "$PORT" -qc "CREATE DATABASE workup_test OWNER workup"
fi
echo "postgres $VERSION on 127.0.0.1:$PORT: postgresql+psycopg://workup:workup@127.0.0.1:$PORT/workup_test"
