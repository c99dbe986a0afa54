"""The column reference of docs/import.md, generated from import_kinds.yaml so that it cannot drift.

Regenerate with `python -m smecluster.registry.import_docs docs/import.md`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from smecluster.registry.import_kinds import TYPE_LABELS, ColumnSpec, kinds

BEGIN = "<!-- BEGIN GENERATED from smecluster/registry/import_kinds.yaml -->"
END = "<!-- END GENERATED -->"


def _limits(spec: ColumnSpec) -> str:
    parts = []
    if spec.type == "enum":
        parts.append(" / ".join(f"{labels[0]} (`{code}`)" for code, labels in (spec.values or {}).items()))
    if spec.min is not None:
        parts.append(f">= {spec.min:g}")
    if spec.max is not None:
        parts.append(f"<= {spec.max:g}")
    if spec.max_length:
        parts.append(f"at most {spec.max_length} characters")
    if spec.references:
        ref = spec.references
        if ref.table == "chain_catalogue":
            parts.append(f"must be a {ref.column} of the chain catalogue (shipped maps and `smecluster chain import`)")
        else:
            parts.append(f"must exist in `{ref.table}.{ref.column}`" + (f" ({ref.where})" if ref.where else ""))
    return "; ".join(parts)


def render() -> str:
    """The generated Markdown: one table of columns per import kind."""
    out = [BEGIN, ""]
    for kind in kinds().values():
        key = " + ".join(kind.column(k).header for k in kind.key)
        out += [
            f"### `{kind.name}`: {kind.title_zh} ({kind.title_en})",
            "",
            f"Table `{kind.table}`; natural key {key} (re-importing updates on it).",
            "",
            "| header | English | type | required | limits | description |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in kind.columns:
            required = "yes" if c.required else ""
            out.append(
                f"| {c.header} | `{c.english}` | {TYPE_LABELS[c.type]} | {required} | {_limits(c)} | "
                f"{c.description} |"
            )
        out.append("")
        words = {"together": "both filled or both blank", "at_most": "at most"}
        for r in kind.rules:
            left, right = kind.column(r.left).header, kind.column(r.right).header
            test = f"{left} and {right}: {words[r.rule]}" if r.rule == "together" else f"{left} <= {right}"
            out += [f"Row check: {test} ({r.reason}).", ""]
    out.append(END)
    return "\n".join(out)


def update(path: str | Path) -> None:
    """Replace the generated part of a Markdown file (between the markers) with `render()`."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    update(sys.argv[1])
