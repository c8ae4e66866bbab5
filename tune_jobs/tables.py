"""Benchmark reports: a frame as a markdown table, and a report written to a file and the console."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a markdown table, floats to 3 significant digits."""

    def cell(v):
        return f"{v:.3g}" if isinstance(v, float) and math.isfinite(v) else str(v)

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    lines = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *lines])


def write_report(path: Path, lines: list[str]) -> None:
    """The report's lines to ``path`` and to the console."""
    text = "\n".join(lines)
    path.write_text(text)
    print("\n" + text)
    print(f"written to {path.parent}/")
