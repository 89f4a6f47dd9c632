#!/bin/sh
# Make sure a Chinese (CJK) font is installed for the investor's PDF documents (redress.documents).
#
# Idempotent: when Debian's fonts-noto-cjk is already there (or REDRESS_CJK_FONT names a font file that
# exists) this does nothing and returns at once.  Otherwise it installs the Debian package `fonts-noto-cjk`
# with apt-get (as root, or through sudo when available).  Without a CJK font the documents cannot be written:
# the web answers 503 for them and the log says what is missing.
set -eu

FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
PACKAGES="fonts-noto-cjk"

if [ -n "${REDRESS_CJK_FONT:-}" ] && [ -f "$REDRESS_CJK_FONT" ]; then
    exit 0
fi
if [ -f "$FONT" ]; then
    exit 0
fi

fail() {
    echo "install-fonts: $*" >&2
    echo "install-fonts: the PDF documents need a font with Chinese glyphs; install one by hand with:" \
         "apt-get install $PACKAGES  (or set REDRESS_CJK_FONT to a .ttf, .otf or .ttc file)" >&2
    exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "no CJK font found and apt-get is not available (not a Debian/Ubuntu system?)"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    fail "no CJK font found and installing one needs root (run as root, or with password-less sudo)"
fi

echo "install-fonts: installing $PACKAGES with apt-get ..."
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q || fail "apt-get update failed"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES || fail "apt-get install $PACKAGES failed"

[ -f "$FONT" ] || fail "apt-get finished but $FONT is still missing"
echo "install-fonts: $FONT installed"
