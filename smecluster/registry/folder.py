"""Importing a folder of registry files at once: `smecluster import folder DIR`.

Each .csv / .xlsx file's kind is told by its name (the kind, its table or its Chinese title, after an
optional number such as `01-`) or else by its header row (the kind whose required columns are all
there and which knows most of the headers). Files load in dependency order (a kind after the kinds
that create the rows it refers to, worked out from import_kinds.yaml), all in ONE transaction: each
file's good rows are written so that later files are checked against them, and at the end everything
is committed when no file had a problem, else (and in a dry run) rolled back. Every problem of every
file is reported (file, row, column, value, reason). docs/decisions/1003-folder-import.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from smecluster.registry.import_kinds import ImportKind, kinds, normalise_header
from smecluster.registry.importer import ImportResult, _with_file, read_and_check, store_checked
from smecluster.registry.readers import ROW, SUFFIXES, Grid, ReadError, read_grid
from smecluster.registry.store import Rollback, transaction
from smecluster.registry.validate import HEADER_SCAN_ROWS, error_frame

# Files the importer itself writes next to an input: never inputs of a folder import.
OWN_OUTPUTS = (".rejected.csv", ".errors.csv")


def kind_order() -> list[str]:
    """Kinds in dependency order: after the kinds that insert rows into the tables they reference.

    Ties keep the order of import_kinds.yaml. A kind that only updates rows (update_only) depends on
    the kinds that create them.
    """
    known = kinds()
    providers: dict[str, set[str]] = {}
    for k in known.values():
        if k.on_conflict != "update_only":
            providers.setdefault(k.table, set()).add(k.name)
    needs = {
        k.name: {p for c in k.columns if c.references for p in providers.get(c.references.table, set())} - {k.name}
        for k in known.values()
    }
    order: list[str] = []
    while len(order) < len(known):
        ready = [n for n in known if n not in order and needs[n] <= set(order)]
        if not ready:
            raise ValueError(f"import kinds refer to each other in a cycle: {sorted(set(known) - set(order))}")
        order.append(ready[0])
    return order


def _name_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"^\d+[\s._-]*", "", text)  # 01-enterprises, 2_企业名录
    return re.sub(r"[\s_-]+", "_", text).strip("_")


def kind_by_name(path: Path) -> ImportKind | None:
    """The kind a file's name says: enterprises.csv, enterprise.xlsx, 01-企业名录.csv, ..."""
    stem = _name_key(path.name[: -len(path.suffix)] if path.suffix else path.name)
    for k in kinds().values():
        if stem in {_name_key(n) for n in (k.name, k.table, k.title_zh, k.title_en)}:
            return k
    return None


def kind_by_header(grid: Grid) -> tuple[ImportKind | None, str]:
    """The kind whose required headers are all in one of the first rows and which knows most headers."""
    cells = [c for c in grid.frame.columns if c != ROW]
    rows = [
        {normalise_header(v) for v in row if v is not None}
        for row in grid.frame.head(HEADER_SCAN_ROWS).select(cells).iter_rows()
    ]
    scored = []
    for k in kinds().values():
        names = k.names()
        for headers in rows:
            found = {names[h].field for h in headers if h in names}
            if all(c.field in found for c in k.columns if c.required):
                scored.append((len(found), k))
                break
    if not scored:
        return None, "no kind's required headers are all there"
    best = max(n for n, _ in scored)
    top = [k for n, k in scored if n == best]
    if len(top) > 1:
        names = " or ".join(k.name for k in top)
        return None, f"the headers fit {names} equally well: name the file after its kind (e.g. {top[0].name}.csv)"
    return top[0], ""


@dataclass
class FolderResult:
    """What a folder import found and did."""

    directory: Path
    files: list[ImportResult] = field(default_factory=list)  # in the order loaded
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) of unusable files
    skipped: list[str] = field(default_factory=list)  # files that are not inputs (with why)
    dry_run: bool = False

    @property
    def errors(self) -> pl.DataFrame:
        """Every problem: file, row, column, value, reason."""
        own = error_frame([(None, None, None, reason) for _, reason in self.problems])
        own = own.with_columns(pl.Series("file", [f for f, _ in self.problems], dtype=pl.String))
        frames = [_with_file(error_frame([]), self.directory)]
        frames += [own.select("file", pl.col(ROW).alias("row"), "column", "value", "reason")]
        frames += [r.errors for r in self.files]
        return pl.concat(frames, how="vertical")

    @property
    def notices(self) -> pl.DataFrame:
        """Remarks on rows that were accepted (e.g. dates derived from a year)."""
        return pl.concat([_with_file(error_frame([]), self.directory), *[r.notices for r in self.files]])

    @property
    def ok(self) -> bool:
        """No problem in any file."""
        return not self.problems and all(r.ok for r in self.files)

    @property
    def written(self) -> bool:
        """Whether the folder was stored (not a dry run, no problem anywhere)."""
        return self.ok and not self.dry_run


def _inputs(directory: Path) -> tuple[list[Path], list[str]]:
    files, skipped = [], []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        if path.name.lower().endswith(OWN_OUTPUTS):
            skipped.append(f"{path.name}: written by an earlier import, not read")
        elif path.suffix.lower() in SUFFIXES:
            files.append(path)
    return files, skipped


def import_folder(
    engine: Engine, directory: str | Path, *, dry_run: bool = False, on_phase: Callable[[str], None] | None = None
) -> FolderResult:
    """Import every registry file of `directory` in one transaction (all or nothing; see the module doc)."""
    directory = Path(directory)
    result = FolderResult(directory, dry_run=dry_run)
    phase = on_phase or (lambda _name: None)
    if not directory.is_dir():
        result.problems.append((str(directory), "no such folder"))
        return result
    paths, result.skipped = _inputs(directory)
    if not paths:
        result.problems.append((str(directory), f"no .csv or .xlsx file in the folder ({', '.join(SUFFIXES)})"))
        return result
    planned = []
    for path in paths:
        phase(f"reading {path.name}")
        try:
            grid = read_grid(path)
        except ReadError as exc:
            result.problems.append((str(path), str(exc)))
            continue
        kind = kind_by_name(path)
        if kind is None:
            kind, why = kind_by_header(grid)
            if kind is None:
                result.problems.append((str(path), f"cannot tell what the file holds: {why}"))
                continue
        planned.append((kind, path, grid))
    order = {name: i for i, name in enumerate(kind_order())}
    planned.sort(key=lambda t: (order[t[0].name], t[1].name))
    rejected: dict[tuple[str, str], pl.DataFrame] = {}  # (table, column) -> key values of bad rows, file
    try:
        with transaction(engine) as batch:
            for kind, path, grid in planned:
                phase(f"{kind.name}: checking {path.name}")
                file_result = ImportResult(kind.name, path, dry_run=dry_run, staged=True)
                result.files.append(file_result)
                checked = read_and_check(kind, path, file_result, grid)
                if checked is None:
                    continue
                store_checked(batch, checked, file_result)
                _explain_missing(file_result, checked.kind, rejected)
                _remember_rejected(checked, path, rejected)
            if not result.written:
                raise Rollback
    except Rollback:
        pass
    return result


def _remember_rejected(checked, path: Path, rejected: dict[tuple[str, str], pl.DataFrame]) -> None:
    """Key values of the rows of this file that have a problem (so later files can say why a
    reference to them is missing)."""
    kind = checked.kind
    if len(kind.key) != 1 or checked.typed.is_empty() or kind.on_conflict == "update_only":
        return
    field = kind.key[0]
    bad = checked.typed.filter(pl.col(ROW).is_in(checked.bad_rows().implode()))
    frame = bad.select(pl.col(field).cast(pl.String).alias("value"), pl.lit(path.name).alias("in_file"))
    previous = rejected.get((kind.table, field))
    rejected[(kind.table, field)] = frame if previous is None else pl.concat([previous, frame])


def _explain_missing(
    file_result: ImportResult, kind: ImportKind, rejected: dict[tuple[str, str], pl.DataFrame]
) -> None:
    """A reference 'not found' because its row in an earlier file of the folder was rejected says so."""
    for spec in kind.columns:
        ref = spec.references
        if ref is None or (ref.table, ref.column) not in rejected:
            continue
        known = rejected[(ref.table, ref.column)].unique("value")
        errors = file_result.errors.join(known, on="value", how="left", maintain_order="left")
        hit = (pl.col("reason") == ref.missing) & pl.col("in_file").is_not_null()
        why = pl.format("{}: its row in {} has a problem (see above)", pl.lit(ref.missing.split(" (")[0]), "in_file")
        file_result.errors = errors.with_columns(
            pl.when(hit)
            .then(why)
            .otherwise(pl.col("reason"))
            .alias("reason")
        ).drop("in_file")
