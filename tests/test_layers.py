"""The direction of imports between Redress's packages: a package may import only packages of lower layers.

The layers, from the bottom (docs/engine.md and docs/decisions.md describe them):

0. errors and the one rounding rule;
1. shared basics with no knowledge of cases (yuan and fen, ids, languages, safe exports) and the law as
   data;
2. market data (calendars, base dates, market model) and password rules;
3. the trades tables;
4. the loss engine, and the ledger;
5. the pure domain cores (claims, hearings, recovery, fair funds, the protection fund), the investor's
   explanation in words, documents, reports and synthetic cases;
6. the store (tables, audit log);
7. case administration (the services);
8. notifications;
9. the web;
10. the command line;
11. the demo and the benchmarks.

Every import, also one inside a function, counts.  ``KNOWN`` lists the imports that still go up, each to be
removed; the test fails on any other, and on a listed one that is gone (so that the list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "redress"

LAYERS = {
    "errors": 0, "rounding": 0,
    "money": 1, "ids": 1, "i18n": 1, "exports": 1, "law": 1,
    "market": 2, "passwords": 2,
    "trades": 3,
    "engine": 4, "ledger": 4,
    "claims": 5, "hearing": 5, "recovery": 5, "fairfund": 5, "protection": 5, "portal": 5, "documents": 5,
    "report": 5, "synth": 5,
    "store": 6,
    "admin": 7,
    "notify": 8,
    "web": 9,
    "cli": 10,
    "demo": 11, "bench": 11,
}

# imports that go up today: (importing module, imported module)
KNOWN = {
    ("redress.admin.access", "redress.web.security"),
    ("redress.admin.access", "redress.web"),
}


def _module(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("redress"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("redress."))
    return found


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def upward_imports(src: Path = SRC) -> set[tuple[str, str]]:
    out = set()
    for path in src.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        source = _module(path, src)
        for target in _imports(path):
            a, b = _package(source), _package(target)
            if b == "redress" or a == b:
                continue
            assert a in LAYERS, f"package redress.{a} has no layer: add it to LAYERS"
            assert b in LAYERS, f"package redress.{b} has no layer: add it to LAYERS"
            if LAYERS[b] >= LAYERS[a]:
                out.add((source, target))
    return out


def test_no_package_imports_a_higher_layer():
    found = upward_imports()
    new = sorted(found - KNOWN)
    assert not new, "imports that go up a layer (move the code down, or the import up): " + "; ".join(
        f"{a} imports {b}" for a, b in new)
    gone = sorted(KNOWN - found)
    assert not gone, f"no longer imported, remove from KNOWN: {gone}"


def test_the_engine_and_the_data_below_it_import_nothing_above():
    """The loss engine, the trades tables, the market data and the law never reach case administration, the
    store, the web or the command line, whatever else changes."""
    low = {p for p, layer in LAYERS.items() if layer <= LAYERS["engine"]}
    for path in SRC.rglob("*.py"):
        source = _module(path)
        if _package(source) not in low:
            continue
        for target in _imports(path):
            assert _package(target) in low | {"redress"}, f"{source} imports {target}"


def test_the_check_sees_an_upward_import(tmp_path):
    """The scan itself works: a market module importing the engine, even inside a function, is caught; the
    engine importing the market is not."""
    src = tmp_path / "redress"
    (src / "market").mkdir(parents=True)
    (src / "engine").mkdir()
    (src / "market" / "probe.py").write_text("def f():\n    from redress.engine.pipeline import compute\n",
                                             encoding="utf-8")
    (src / "engine" / "probe.py").write_text("import redress.market.calendar\n", encoding="utf-8")
    assert upward_imports(src) == {("redress.market.probe", "redress.engine.pipeline")}
