"""Query results for a terminal: an aligned table with compact IRIs."""

from __future__ import annotations

import shutil
from collections.abc import Iterable

from pyoxigraph import BlankNode, Literal, NamedNode


def compact(term: object, prefixes: dict[str, str]) -> str:
    """A term as a person reads it: ``kaz`` IRIs as ``id:country/kaz``, literals bare."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        for prefix, ns in prefixes.items():
            if term.value.startswith(ns):
                return f"{prefix}:{term.value[len(ns) :]}"
        return f"<{term.value}>"
    if isinstance(term, Literal):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def render(variables: list[str], rows: Iterable[list[str]], width: int | None = None) -> str:
    """A boxed table; long cells are cut so that the table fits the terminal."""
    rows = [list(r) for r in rows]
    width = width or shutil.get_terminal_size((120, 20)).columns
    widths = [max([len(v), *(len(r[i]) for r in rows)]) for i, v in enumerate(variables)]
    budget = max(10, (width - 3 * len(widths) - 1) // max(1, len(widths)))
    widths = [min(w, budget) if sum(widths) + 3 * len(widths) > width else w for w in widths]

    def cut(text: str, w: int) -> str:
        text = text.replace("\n", " ")
        return text if len(text) <= w else text[: w - 1] + "…"

    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [
        line,
        "| "
        + " | ".join(cut(v, w).ljust(w) for v, w in zip(variables, widths, strict=True))
        + " |",
    ]
    out.append(line)
    for r in rows:
        out.append(
            "| " + " | ".join(cut(c, w).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
        )
    out.append(line)
    out.append(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
    return "\n".join(out)
