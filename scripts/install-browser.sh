#!/bin/sh
# Make sure Debian's Chromium is installed for the browser (end-to-end) tests in tests/e2e.
#
# Idempotent: when /usr/bin/chromium is already there this does nothing and returns at once.
# Otherwise it installs the Debian packages `chromium` and `chromium-driver` with apt-get
# (as root, or through sudo when available).  The tests drive this Chromium through Playwright
# (executable_path="/usr/bin/chromium"); `playwright install` is never needed.
set -eu

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Chinese text in the screenshots needs a CJK font (the pages are bilingual).
PACKAGES="chromium chromium-driver fonts-noto-cjk"

if [ -x "$CHROMIUM" ] && [ -d /usr/share/fonts/opentype/noto ]; then
    exit 0
fi

fail() {
    echo "install-browser: $*" >&2
    echo "install-browser: the browser tests (tests/e2e) need Chromium at $CHROMIUM;" \
         "install it by hand with: apt-get install chromium chromium-driver" >&2
    exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "Chromium is missing and apt-get is not available (not a Debian/Ubuntu system?)"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    fail "Chromium is missing and installing it needs root (run as root, or with password-less sudo)"
fi

echo "install-browser: installing $PACKAGES with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q || fail "apt-get update failed"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES \
    || fail "apt-get install $PACKAGES failed"

[ -x "$CHROMIUM" ] || fail "apt-get finished but $CHROMIUM is still missing"
echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
