"""How long notice letters take: ``python tests/documents/measure_letters.py [N]`` prints the seconds per
page for N letters (1,000 by default) in one PDF, half in Chinese and half in English, and the file's size."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from pdfsupport import letter

from redress.documents import letters_pdf


def main(n: int) -> None:
    letters = [letter("zh" if i % 2 else "en", investor_id=f"INV{i:06d}", user_name=f"INV{i:06d}",
                      amount_fen=100_00 + i * 7919, activation_code=f"K7QM2XPA{i:04d}") for i in range(n)]
    start = time.perf_counter()
    pdf = letters_pdf(letters)
    seconds = time.perf_counter() - start
    print(f"{n} letters: {seconds:.1f} s, {seconds / n * 1000:.1f} ms per page, {len(pdf) / 1e6:.1f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
