"""Markdown tables for people (sweep summaries, slices, model cards): one builder, so a ``|`` or a
line break inside a value (a category label, an error message) never breaks a table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """``value`` as one table cell: backslashes and ``|`` escaped, line breaks made spaces."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table of ``rows`` under ``header`` (no trailing newline)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
