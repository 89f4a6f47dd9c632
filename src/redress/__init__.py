"""Redress: advance compensation for securities fraud."""

import os

# Polars' allocator (jemalloc) keeps freed pages for reuse by default, so memory the validation step
# releases stays resident while the engine allocates its arrays.  Returning freed pages at once lowers the
# peak by about a sixth on large cases for about a tenth more time (docs/decisions.md).  Set before Polars
# loads; an explicit setting in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

__version__ = "0.1.0"
