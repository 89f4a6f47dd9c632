"""The inline SVG charts: every value is drawn, a single day still shows, labels are escaped."""

from __future__ import annotations

import re

from redress.web import charts


def test_bars_scale_to_the_largest_value_and_escape_labels():
    svg = charts.bars([("a<b", 50.0), ("c", 100.0)], unit=" yuan")
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[1] == 2 * widths[0] > 0
    assert "a&lt;b" in svg and "a<b" not in svg and "100.00 yuan" in svg


def test_lines_draw_a_point_per_value_even_for_one_day():
    svg = charts.lines({"accepted": [("2023-02-01", 5.0)], "declined": [("2023-02-01", 1.0)]})
    assert svg.count("<circle") == 2 and "2023-02-01: 5.00" in svg
    many = charts.lines({"accepted": [("2023-02-01", 1.0), ("2023-02-02", 3.0), ("2023-02-03", 4.0)]})
    points = re.search(r'points="([^"]+)"', many).group(1).split()
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys, reverse=True)          # a cumulative count rises: y falls on the screen


def test_no_data_says_so():
    assert "No decisions yet" in charts.lines({"accepted": []})
