#!/bin/sh
# Install Debian's Chromium for the Playwright browser tests, only when it is missing.
# Idempotent: does nothing when /usr/bin/chromium is already there. Never runs
# `playwright install` (no browser downloads outside the Debian archive).
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
/usr/bin/chromium --version || true
