"""Aggregates of a result table: investors by status, totals, and the distribution by size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

# Upper bounds (yuan) of the compensation-size bands, with bilingual labels.
BANDS = [
    (1_000, "< 1千 / < 1k"),
    (10_000, "1千-1万 / 1k-10k"),
    (100_000, "1万-10万 / 10k-100k"),
    (1_000_000, "10万-100万 / 100k-1M"),
    (float("inf"), ">= 100万 / >= 1M"),
]
STATUS_LABELS = {
    "eligible": "获赔 eligible",
    "below_minimum": "低于起付额 below minimum",
    "no_loss": "无损失 no loss",
    "no_eligible_shares": "无适格股份 no eligible shares",
    "excluded": "排除 excluded",
}


@dataclass(frozen=True)
class Summary:
    rows: int
    investors: int
    by_status: list[dict]  # status, label, rows, compensation_fen
    bands: list[dict]  # label, investors, compensation_fen
    total_fen: int
    eligible: int
    flags: dict[str, int]

    def as_dict(self) -> dict:
        return {"rows": self.rows, "investors": self.investors, "eligible": self.eligible,
                "total_compensation": self.total_fen / 100,
                "by_status": [{**s, "compensation": s["compensation_fen"] / 100} for s in self.by_status],
                "bands": [{**b, "compensation": b["compensation_fen"] / 100} for b in self.bands],
                "flags": self.flags}


def summarize(table: pl.DataFrame, compensation_fen: np.ndarray) -> Summary:
    fen = pl.Series("fen", compensation_fen)
    df = table.select("investor_id", "status", "flags").with_columns(fen)
    by_status = []
    for status, label in STATUS_LABELS.items():
        part = df.filter(pl.col("status") == status)
        by_status.append({"status": status, "label": label, "rows": part.height,
                          "compensation_fen": int(part["fen"].sum() or 0)})
    per_investor = df.filter(pl.col("status") == "eligible").group_by("investor_id").agg(pl.col("fen").sum())
    amounts = per_investor["fen"].to_numpy() / 100
    bands, lower = [], 0.0
    for upper, label in BANDS:
        mask = (amounts >= lower) & (amounts < upper)
        bands.append({"label": label, "investors": int(mask.sum()),
                      "compensation_fen": int(per_investor["fen"].to_numpy()[mask].sum())})
        lower = upper
    flags = {f: int(df["flags"].str.contains(f).sum()) for f in ("oversold", "base_date_truncated")}
    return Summary(table.height, table["investor_id"].n_unique(), by_status, bands, int(compensation_fen.sum()),
                   per_investor.height, flags)
