"""State and helpers shared by the CLI modules."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


@dataclass
class _State:
    db: str | None = None
    lang: str = "zh"  # words of printed tables and JSON reasons (--lang, else the locale); JSON keeps the codes


STATE = _State()


def fail(message: str, code: int = 1) -> None:
    """Print a clear error and exit non-zero (soft-wrapped: a file path is never cut in two)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def emit(text: str, output: Path | None, announce: bool = True) -> None:
    """A command's JSON (or other text) to standard output, or to `output` (saying so when `announce`)."""
    if output is None:
        print(text)
        return
    output.write_text(text, encoding="utf-8")
    if announce:
        console.print(f"wrote {output}")


def new_table(*columns: str, keep: tuple[str, ...] = (), title: str | None = None) -> Table:
    """A table that never cuts a value: `keep` columns (codes, numbers, statuses) are as wide as their
    widest value (only their header may wrap), the others (names, clauses, gaps) fold onto more lines.
    Print it with `print_table`."""
    from smecluster.labels import header as header_in

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for name in columns:
        shown = header_in(name, STATE.lang)
        table.add_column(shown, overflow="fold", min_width=min(6, cell_len(shown)))
        table.columns[-1].meta = {"keep": name in keep}  # read by print_table
    return table


def word(value: object) -> str:
    """A cell for a person: a code (outcome, status, change) as the word of the chosen language."""
    from smecluster.labels import word as word_in

    return "" if value is None else str(word_in(value, STATE.lang))


def _cell_width(cell: object) -> int:
    text = Text.from_markup(cell) if isinstance(cell, str) else cell
    return max((cell_len(line) for line in str(text).splitlines()), default=0)


def print_table(table: Table, out: Console | None = None) -> None:
    """Print a `new_table` within the terminal's width (80 columns in a pipe) without cutting a value.

    Kept columns get exactly the width of their widest value; the others share what is left and fold
    their text. When too little is left for them, each row is printed as `header: value` lines.
    """
    out = out or console
    cols = table.columns
    keep = {
        id(c): max([min(cell_len(str(c.header)), MIN_FOLD_WIDTH), *(_cell_width(x) for x in c._cells)])
        for c in cols if c.meta.get("keep")
    }
    folding = [c for c in cols if id(c) not in keep]
    # one space of padding each side of a column, collapsed between columns, none at the edges
    overhead = table._extra_width + max(0, len(cols) - 1)
    left = out.width - overhead - sum(keep.values())
    natural = {id(c): max([cell_len(str(c.header)), *(_cell_width(x) for x in c._cells)]) for c in folding}
    if left >= MIN_FOLD_WIDTH * len(folding):
        for c in cols:
            c.min_width = None
            if id(c) in keep:
                c.width = keep[id(c)]
        _share(folding, natural, left)
        out.print(table)
        return
    if table.title:
        out.print(f"[bold]{table.title}[/]")
    for row in zip(*(c._cells for c in cols), strict=True):
        for c, cell in zip(cols, row, strict=True):
            if cell not in ("", None):
                value = Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell))
                out.print(Text.assemble((f"{c.header}: ", "bold"), value), overflow="fold")
        out.print()


MIN_FOLD_WIDTH = 8


def _share(columns: list, natural: dict[int, int], room: int) -> None:
    """Widths for the folding columns: their natural width when all fit, else shares of `room`."""
    if not columns:
        return
    if sum(natural[id(c)] for c in columns) <= room:
        for c in columns:
            c.width = natural[id(c)]
        return
    fixed = room
    pending = list(columns)
    # columns narrower than an equal share keep their width; the rest split what remains
    while pending:
        share = fixed // len(pending)
        small = [c for c in pending if natural[id(c)] <= share]
        if not small:
            break
        for c in small:
            c.width = natural[id(c)]
            fixed -= c.width
            pending.remove(c)
    for i, c in enumerate(pending):
        c.width = max(MIN_FOLD_WIDTH, fixed // len(pending) + (1 if i < fixed % len(pending) else 0))
