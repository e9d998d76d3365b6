#!/usr/bin/env bash
# The browser tests and the editor benchmark drive Debian's Chromium (Playwright cannot download its own browser here).
# Install it when this user can (root, or passwordless sudo); otherwise stop at once with the
# one command to run, instead of failing minutes later in the middle of the test run.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
install() {
  export DEBIAN_FRONTEND=noninteractive
  "$@" apt-get update -qq
  "$@" apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
if command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests..."
    install && [ -x "$CHROMIUM" ] && exit 0
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "Installing Debian's chromium for the browser tests (sudo)..."
    install sudo && [ -x "$CHROMIUM" ] && exit 0
  fi
fi
echo "The browser tests need Debian's Chromium at $CHROMIUM. Install it with:" >&2
echo "    sudo apt-get install -y chromium" >&2
exit 1
