"""Finding a font that can write Chinese.

PDF viewers cannot be trusted to have a Chinese font, so every document embeds the glyphs it uses (a subset of
the font, a few dozen kilobytes).  The font is looked for when a document is first written:

1. ``REDRESS_CJK_FONT``: a ``.ttf``, ``.otf`` or ``.ttc`` file; in a collection (``.ttc``) the face for
   Simplified Chinese is chosen, or the one named by ``REDRESS_CJK_FONT_INDEX``;
2. Debian's fonts (``fonts-noto-cjk`` first, then ``fonts-wqy-microhei``, ``fonts-wqy-zenhei``,
   ``fonts-arphic-uming``, ``fonts-droid-fallback``).

None found: ``FontMissing``, saying which package to install (``scripts/install-fonts.sh`` does it).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

ENV = "REDRESS_CJK_FONT"
ENV_INDEX = "REDRESS_CJK_FONT_INDEX"
PACKAGE = "fonts-noto-cjk"

_NOTO = Path("/usr/share/fonts/opentype/noto")
# (regular, bold or None): the Debian fonts tried in order
CANDIDATES: tuple[tuple[Path, Path | None], ...] = (
    (_NOTO / "NotoSansCJK-Regular.ttc", _NOTO / "NotoSansCJK-Bold.ttc"),
    (_NOTO / "NotoSerifCJK-Regular.ttc", _NOTO / "NotoSerifCJK-Bold.ttc"),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), None),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), None),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), None),
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), None),
)
# how the face for Simplified Chinese is named in the collections above
_SIMPLIFIED = (" SC", "Simplified", "GB", "MicroHei", "ZenHei", "AR PL UMing CN")


class FontMissing(RuntimeError):
    """No font with Chinese glyphs was found; the message says what to install or set."""


@dataclass(frozen=True)
class Face:
    """One face of a font file (``index`` is the face's number in a ``.ttc`` collection, else 0)."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class CjkFont:
    regular: Face
    bold: Face            # the regular face again when the font has no bold


def _simplified_index(path: Path) -> int:
    """The face for Simplified Chinese in a collection; 0 for a single font or when none is named so."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        names = [str(face["name"].getDebugName(4) or "") for face in collection.fonts]
    finally:
        collection.close()
    for marker in _SIMPLIFIED:
        for i, name in enumerate(names):
            if marker in name and "Mono" not in name:
                return i
    return 0


def _face(path: Path, index: str | None = None) -> Face:
    if index is not None and index.strip():
        try:
            return Face(path, int(index))
        except ValueError:
            raise FontMissing(f"{ENV_INDEX}={index!r} is not a number: give the face's number in the "
                              f"collection {path} (0 for the first)") from None
    return Face(path, _simplified_index(path))


@functools.cache
def _find(configured: str | None, index: str | None) -> CjkFont:
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(f"{ENV}={configured!r}: no such font file; point it at a .ttf, .otf or .ttc "
                              f"file with Chinese glyphs, or unset it to use Debian's {PACKAGE}")
        face = _face(path, index)
        return CjkFont(face, face)
    for regular, bold in CANDIDATES:
        if regular.is_file():
            face = _face(regular)
            bold_face = Face(bold, face.index) if bold is not None and bold.is_file() else face
            return CjkFont(face, bold_face)
    raise FontMissing(f"no font for Chinese text was found: install Debian's {PACKAGE} "
                      f"(`apt-get install {PACKAGE}`, or run scripts/install-fonts.sh as root), "
                      f"or set {ENV} to a .ttf, .otf or .ttc file with Chinese glyphs")


def cjk_font() -> CjkFont:
    """The font documents are written in (looked up once per configuration)."""
    return _find(os.environ.get(ENV) or None, os.environ.get(ENV_INDEX))
