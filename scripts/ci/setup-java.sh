#!/bin/sh
# Install a Java runtime (Debian's default JRE, 17 or newer) for the Spark engine's tests
# (tests/audit/test_spark_engine.py). Idempotent: does nothing when java 17+ is already there.
set -eu
if command -v java >/dev/null 2>&1; then
    v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ -n "$v" ] && [ "${v%%.*}" -ge 17 ] 2>/dev/null; then
        echo "java $v already installed"
        exit 0
    fi
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends default-jre-headless
java -version || true
