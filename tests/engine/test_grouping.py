"""The grouping kernel against a slow, obvious sort; and the paths only large or unusual cases take."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redress.engine import grouping as G
from redress.engine import records as R
from redress.engine.pipeline import OPENING_DAY, compute_case_dir, prepare
from tests.property.test_engine_vs_reference import compare
from tests.reference.loss_reference import compute_reference
from tests.support.cases import day, write_case

NO_FACTOR = (np.ones((1, 1)), 0, np.ones(1))


def _group(keys, tkeys, rows_checks, pos_keys=()):
    n = len(keys)
    key = np.array(keys, dtype=np.uint64)
    tkey = np.array(tkeys, dtype=np.uint64)
    check = np.array(rows_checks, dtype=np.uint64)
    is_buy = np.ones(n, dtype=bool)
    sec = np.zeros(n, np.int32)
    day_ = np.arange(n, dtype=np.int32)
    qty = np.arange(1, n + 1, dtype=np.float64)
    price = np.ones(n)
    pk = np.array(pos_keys, dtype=np.uint64)
    chunk = (key, check, tkey, np.zeros(0, np.int32), np.zeros(0, np.int64), is_buy, sec, day_, qty, price)
    rec, offsets = G.scatter_rows([chunk], 0, 0, False, pk, pk.copy(), np.zeros(len(pk), np.int32), np.ones(len(pk)),
                                  *NO_FACTOR)
    starts, consistent = G.sort_partitions(rec, offsets)
    kind, sec_, day2 = R.unpack_meta(rec[:, R.R_META])
    fv = rec.view(np.float64)
    return kind, sec_, day2, fv[:, R.R_QTY], fv[:, R.R_PRICE], rec[:, R.R_ROW].astype(np.int64), starts, consistent


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 5)), min_size=0, max_size=300),
       st.lists(st.integers(0, 12), max_size=5))
def test_group_rows_orders_like_a_plain_sort(rows, positions):
    mix = 0x9E3779B97F4A7C15
    keys = [g * mix % 2**64 for g, _ in rows]
    tkeys = [t + 1 for _, t in rows]
    pos_keys = [g * mix % 2**64 for g in positions]
    kind, sec, day_, qty, price, rowid, starts, consistent = _group(keys, tkeys, keys, pos_keys)
    n_t = len(rows)
    everything = [(keys[i], tkeys[i], i) for i in range(n_t)] + [(pos_keys[j], 0, n_t + j) for j in range(len(pos_keys))]
    expected = [row for _, _, row in sorted(everything)]
    assert list(rowid) == expected
    assert consistent
    assert len(starts) - 1 == len(set(keys) | set(pos_keys))
    for pos, row in enumerate(rowid):
        if row < n_t:
            assert kind[pos] == R.KIND_BUY and day_[pos] == row and qty[pos] == row + 1
        else:
            assert kind[pos] == R.KIND_OPENING and day_[pos] == OPENING_DAY


def test_a_key_collision_is_detected():
    *_, consistent = _group([5, 5, 6], [1, 2, 3], [1, 2, 3])
    assert not consistent


def test_time_keys_order_and_fallback():
    from redress.engine.pipeline import time_keys

    trades = pl.DataFrame({"date": [10, 10, 11, 10], "time": [-1, 5, 0, 5], "seq": [0, 1, 0, 0]},
                          schema={"date": pl.Int32, "time": pl.Int32, "seq": pl.Int64})
    expected = [0, 3, 1, 2]
    keys = time_keys(trades)
    assert keys[0] < 2**44 * 2  # packed: day 1 of the range
    assert sorted(range(4), key=lambda i: keys[i]) == expected
    far = time_keys(trades.with_columns(pl.Series("seq", [0, 2**40, 0, 0])))
    assert sorted(far.tolist()) == [1, 2, 3, 4]  # ranks
    assert sorted(range(4), key=lambda i: far[i]) == expected


def _busy_case(root, seqs, prefix=""):
    """One investor with hundreds of trades (merge-sort path), rows shuffled, plus a few small ones (``prefix``
    before every id)."""
    rng = random.Random(3)
    trades = []
    for k in range(400):
        side = "B" if k % 3 else "S"
        trades.append(f"{prefix}BIG,a{k % 3},600001,{day(4 + k % 40)},{'' if k % 7 == 0 else f'10:{k % 60:02d}:00'},"
                      f"{seqs(k)},{side},{100 * (1 + k % 5)},{10 + (k % 13) / 10:.2f}")
    for k in range(30):
        trades.append(f"{prefix}S{k % 4},b,600001,{day(5 + k)},,{seqs(k)},{'B' if k % 2 else 'S'},{100 + k},11.00")
    rng.shuffle(trades)
    return write_case(root, trades=trades, positions=[f"{prefix}BIG,a0,600001,5000", f"{prefix}S1,b,600001,300"])


def test_big_investor_matches_reference(tmp_path):
    case = _busy_case(tmp_path, lambda k: k % 5)
    problems = compare(compute_reference(case), compute_case_dir(case).to_dicts())
    assert not problems, problems


def test_huge_seq_values_take_the_exact_ranking_path(tmp_path):
    case = _busy_case(tmp_path, lambda k: (k % 5) * 10**12 - 3)
    problems = compare(compute_reference(case), compute_case_dir(case).to_dicts())
    assert not problems, problems


@pytest.mark.parametrize("long_ids", [False, True])
def test_hash_collisions_fall_back_to_exact_grouping(tmp_path, monkeypatch, long_ids):
    """Every id given the same grouping key (the verifying hash still differs): the exact grouping takes over and
    gives the same results, whether the ids were hashed from their views or by Polars (ids over 12 bytes)."""
    case = _busy_case(tmp_path, lambda k: k % 5, prefix="INVESTOR-WITH-A-LONG-ID-" if long_ids else "")
    expected = compute_case_dir(case)
    original_scatter, original_sort = G.scatter_rows, G.sort_partitions
    seen, sorts = [], []

    def colliding_scatter(chunks, d0, s0, mix, pos_key, pos_check, pos_sec, *rest, views=False):
        seen.append(views)

        def collide(key, check, n):  # the ids' own verifying hashes, one grouping key for all
            return np.full(n, 12345, np.uint64), G.view_hashes(key)[1] if views else check

        chunks = [(*collide(c[0], c[1], len(c[6])), *c[2:]) for c in chunks]
        return original_scatter(chunks, d0, s0, mix, *collide(pos_key, pos_check, len(pos_sec)), pos_sec, *rest)

    def counted_sort(*args):
        sorts.append(1)
        return original_sort(*args)

    monkeypatch.setattr(G, "scatter_rows", colliding_scatter)
    monkeypatch.setattr(G, "sort_partitions", counted_sort)
    assert compute_case_dir(case).equals(expected)
    assert seen == [not long_ids]
    assert len(sorts) == 2  # the hashed grouping, found inconsistent, then the exact one


def test_explain_agrees_with_compute(tmp_path):
    from redress.engine.explain import explain

    case = _busy_case(tmp_path, lambda k: k % 5)
    table = compute_case_dir(case)
    prep = prepare(case)
    for investor in ("BIG", "S1", "S2"):
        expl = explain(prep, investor)
        row = table.filter(pl.col("investor_id") == investor).row(0, named=True)
        assert expl.securities[0].result == row
        lots = [t for t in expl.securities[0].trades if t.lot]
        consumed = sum(c.quantity for t in expl.securities[0].trades for c in t.consumed)
        bought = sum(t.quantity for t in lots)
        assert consumed <= bought + 1e-6  # FIFO never consumes more than was bought or held
        assert expl.securities[0].steps[-1].label == "compensation" or row["status"] in (
            "no_eligible_shares", "no_loss", "excluded")


def test_many_partitions_order_like_a_plain_sort():
    """Enough rows for hundreds of first-pass partitions, both threads and several buckets per partition."""
    rng = np.random.default_rng(11)
    n, n_pos = 400_000, 5_000
    groups = rng.integers(0, 30_000, n).astype(np.uint64)
    keys = groups * np.uint64(0x9E3779B97F4A7C15)
    tkeys = rng.integers(1, 50, n).astype(np.uint64)  # many ties: the row breaks them
    pos_keys = rng.choice(keys, n_pos)
    kind, sec, day_, qty, price, rowid, starts, consistent = _group(keys, tkeys, keys, pos_keys)
    all_keys = np.concatenate([keys, pos_keys])
    all_t = np.concatenate([tkeys, np.zeros(n_pos, np.uint64)])
    expected = np.lexsort((np.arange(n + n_pos), all_t, all_keys))
    assert np.array_equal(rowid, expected)
    assert consistent
    assert np.array_equal(starts, np.append(np.flatnonzero(np.diff(all_keys[expected], prepend=~all_keys[expected][0])
                                                           != 0), n + n_pos))
    assert np.array_equal(qty[rowid < n], rowid[rowid < n] + 1)
    assert (kind[rowid >= n] == R.KIND_OPENING).all()


def test_a_collision_in_a_large_case_is_detected():
    rng = np.random.default_rng(12)
    keys = rng.integers(0, 2**63, 300_000, dtype=np.int64).astype(np.uint64)
    checks = keys.copy()
    checks[123_456] ^= np.uint64(1)  # the same key as its own row, a different verifying hash: nothing to catch
    keys[200_000] = keys[100_000]  # two ids sharing a key, with different verifying hashes
    *_, consistent = _group(keys, np.ones(len(keys), np.uint64), checks)
    assert not consistent


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**19), st.integers(-1, 86399), st.integers(0, 2**26)),
                min_size=1, max_size=200), st.integers(-20_000, 20_000), st.integers(-2**30, 2**30))
def test_compiled_time_keys_equal_the_packed_expression(rows, day_shift, seq_shift):
    """The compiled one-pass keys are the same numbers as the Polars expression they replace."""
    from redress.engine.pipeline import time_keys

    trades = pl.DataFrame({"date": [d + day_shift for d, _t, _s in rows], "time": [t for _d, t, _s in rows],
                           "seq": [s + seq_shift for _d, _t, s in rows]},
                          schema={"date": pl.Int32, "time": pl.Int32, "seq": pl.Int64})
    d0, s0 = trades["date"].min(), trades["seq"].min()
    u64 = lambda e: e.cast(pl.UInt64)  # noqa: E731
    expected = trades.select(u64(pl.col("date").cast(pl.Int64) - (d0 - 1)) * pl.lit(2**44, pl.UInt64)
                             + u64(pl.col("time").cast(pl.Int64) + 2) * pl.lit(2**27, pl.UInt64)
                             + u64(pl.col("seq") - s0)).to_series().to_numpy()
    assert time_keys(trades).tolist() == expected.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**19), st.integers(-1, 86399), st.integers(0, 2**26),
                          st.integers(0, 2**63)), min_size=1, max_size=300))
def test_time_keys_packed_while_scattering_equal_the_keys_packed_first(rows):
    """``scatter_rows`` packing each trade's time key itself writes the same records as when given the keys."""
    day_ = np.array([d for d, *_ in rows], np.int32)
    tsec = np.array([t for _, t, *_ in rows], np.int32)
    seq = np.array([s for *_, s, _ in rows], np.int64)
    key = np.array([k for *_, k in rows], np.uint64)
    n = len(rows)
    d0, s0 = int(day_.min()), int(seq.min())
    common = (np.ones(n, bool), np.zeros(n, np.int32), day_, np.ones(n), np.ones(n))
    positions = (np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0), *NO_FACTOR)
    empty = (np.zeros(0, np.int32), np.zeros(0, np.int64))
    given_keys = G.scatter_rows([(key, key.copy(), G.pack_time_keys(day_, tsec, seq, d0, s0), *empty, *common)],
                                0, 0, False, *positions)
    packed_here = G.scatter_rows([(key, key.copy(), np.zeros(0, np.uint64), tsec, seq, *common)], d0, s0, False,
                                 *positions)
    assert np.array_equal(given_keys[0], packed_here[0])
    assert np.array_equal(given_keys[1], packed_here[1])


def _id_key(g: int) -> int:
    """A well-mixed 64-bit key for investor g, as a hash would give: MurmurHash3's finaliser of g + 1.  (Multiples
    of one constant would not do: the security is folded in by xor with its own multiple of that constant, so
    investor 0 of security 2 and investor 1 of security 1 would share a key.)"""
    x = g + 1
    x ^= x >> 33
    x = x * 0xFF51AFD7ED558CCD % 2**64
    x ^= x >> 33
    x = x * 0xC4CEB9FE1A85EC53 % 2**64
    return x ^ (x >> 33)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(0, 1_000)), min_size=0, max_size=400),
       st.lists(st.integers(0, 400), max_size=4), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3)),
                                                             max_size=6), st.booleans())
def test_records_are_the_same_however_the_trades_are_chunked(rows, cuts, positions, mix):
    """Chunks (a Parquet file's row groups) give the records one array gives, once grouped; so does folding
    the security into the key in the kernel rather than before it."""
    n = len(rows)
    id_key = np.array([_id_key(g) for g, _, _ in rows], np.uint64)
    sec = np.array([s for _, s, _ in rows], np.int32)
    day_ = np.array([d for *_, d in rows], np.int32)
    tsec, seq = np.zeros(n, np.int32), np.arange(n, dtype=np.int64)
    is_buy, qty, price = np.arange(n) % 3 == 0, np.arange(1, n + 1, dtype=np.int64), np.linspace(1, 2, n)
    pk = np.array([_id_key(g) for g, _ in positions], np.uint64)
    ps = np.array([s for _, s in positions], np.int32)
    factor = (np.linspace(1, 2, 4 * 1_001).reshape(4, 1_001), 0, np.array([1.0, 1.5, 2.0, 2.5]))
    columns = (id_key, id_key ^ np.uint64(7), np.zeros(0, np.uint64), tsec, seq, is_buy, sec, day_, qty, price)
    positions_in = (pk, pk ^ np.uint64(7), ps, np.ones(len(pk)), *factor)

    def grouped(chunks, folded):
        rec, offsets = G.scatter_rows(chunks, 0, 0, folded, *positions_in)
        starts, consistent = G.sort_partitions(rec, offsets)
        assert consistent
        return rec, starts

    one, starts = grouped([columns], mix)
    bounds = sorted({0, n, *(c % (n + 1) for c in cuts)})
    chunks = [tuple(a if a.size == 0 else a[lo:hi] for a in columns) for lo, hi in zip(bounds, bounds[1:])]
    several, starts2 = grouped(chunks, mix)
    assert np.array_equal(one, several) and np.array_equal(starts, starts2)
    if mix:  # folding the security in before the kernel, as keys of (investor, security), groups alike
        folded_key = id_key ^ (sec.astype(np.uint64) * G.KEY_MIX)
        folded_check = (id_key ^ np.uint64(7)) ^ (sec.astype(np.uint64) << np.uint64(48))
        pre = (folded_key, folded_check, *columns[2:])
        pos_pre = (pk ^ (ps.astype(np.uint64) * G.KEY_MIX), (pk ^ np.uint64(7)) ^ (ps.astype(np.uint64) << np.uint64(48)))
        rec, offsets = G.scatter_rows([pre], 0, 0, False, *pos_pre, ps, np.ones(len(pk)), *factor)
        starts3, _ = G.sort_partitions(rec, offsets)
        assert np.array_equal(one, rec) and np.array_equal(starts, starts3)


def test_plain_pages_stops_numpy_advising_huge_pages():
    from numpy._core import multiarray

    from redress.engine.pipeline import plain_pages

    before = multiarray._set_madvise_hugepage(True)
    try:
        plain_pages()
        assert multiarray._get_madvise_hugepage() is False
    finally:
        multiarray._set_madvise_hugepage(before)


_IDS = st.lists(st.text(max_size=7).filter(lambda t: len(t.encode()) <= G.MAX_INLINE), min_size=1, max_size=60)


@settings(max_examples=100, deadline=None)
@given(_IDS, st.integers(0, 60))
def test_ids_hashed_from_their_views_depend_on_the_id_only(ids, cut):
    """Equal ids get equal keys and checks wherever they lie (in another chunk, in a sliced array), distinct ids
    distinct pairs, and bytes past an id's length in its view do not count."""
    from redress.engine.pipeline import _id_words

    series = pl.Series("id", ids)
    cut %= len(ids) + 1
    held = (series, pl.concat([series[:cut], series[cut:]], rechunk=False), pl.Series("id", ["x", *ids])[1:])
    pairs = []
    for column in held:
        words = _id_words(column)
        assert words is not None
        pairs.append(np.concatenate([np.column_stack(G.view_hashes(w)) for w in words]))
    assert np.array_equal(pairs[0], pairs[1]) and np.array_equal(pairs[0], pairs[2])
    assert len({tuple(p) for p in pairs[0]}) == len(set(ids))
    for i, j in zip(range(len(ids)), range(1, len(ids))):
        assert (ids[i] == ids[j]) == (tuple(pairs[0][i]) == tuple(pairs[0][j]))
    words = np.concatenate(_id_words(series)).copy()
    view_bytes = words.view(np.uint8).reshape(-1, 16)
    for r, text in enumerate(ids):
        view_bytes[r, 4 + len(text.encode()):] = 0xAB  # garbage after the value
    assert np.array_equal(np.column_stack(G.view_hashes(words)), pairs[0])


def test_ids_over_twelve_bytes_or_missing_are_not_hashed_from_views():
    from redress.engine.pipeline import _id_words

    assert _id_words(pl.Series(["A" * 12, "B"])) is not None
    assert _id_words(pl.Series(["A" * 13, "B"])) is None  # held in a data buffer, not inline
    assert _id_words(pl.Series(["A", None])) is None
    assert _id_words(pl.Series([1, 2])) is None


@settings(max_examples=60, deadline=None)
@given(_IDS, st.lists(st.integers(0, 59), max_size=5), st.booleans())
def test_scattering_from_views_equals_scattering_given_their_hashes(ids, held, mix):
    """``scatter_rows`` hashing ids from their views writes the records it writes when given the same hashes."""
    from redress.engine.pipeline import _id_words

    n = len(ids)
    words = np.concatenate(_id_words(pl.Series("id", ids)))
    pos_ids = [ids[k % n] for k in held]
    pos_words = np.concatenate(_id_words(pl.Series("id", pos_ids, dtype=pl.String)) or [np.zeros(0, np.uint64)])
    sec = (np.arange(n) % 3).astype(np.int32)
    rest = (np.zeros(0, np.uint64), np.zeros(n, np.int32), np.arange(n, dtype=np.int64), np.arange(n) % 2 == 0, sec,
            np.arange(n, dtype=np.int32), np.ones(n), np.ones(n))
    pos = (np.zeros(len(pos_ids), np.int32), np.ones(len(pos_ids)), np.ones((3, 1)), 0, np.ones(3))
    from_views = G.scatter_rows([(words, np.zeros(0, np.uint64), *rest)], 0, 0, mix, pos_words, np.zeros(0, np.uint64),
                                *pos, views=True)
    given_hashes = G.scatter_rows([(*G.view_hashes(words), *rest)], 0, 0, mix, *G.view_hashes(pos_words), *pos)
    assert np.array_equal(from_views[0], given_hashes[0]) and np.array_equal(from_views[1], given_hashes[1])
