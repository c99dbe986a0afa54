"""Import kinds (import_kinds.yaml): which columns each kind of file has, and matching of headers."""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smecluster import yamlio

KINDS_FILE = Path(__file__).with_name("import_kinds.yaml")
ColumnType = Literal[
    "text", "code", "int", "number", "year", "date", "bool", "uscc", "enum", "code_list", "boundary"
]
# Words a bool column accepts, after normalisation (lower case, full-width folded).
TRUE_WORDS = ("是", "y", "yes", "1", "true", "t", "有")
FALSE_WORDS = ("否", "n", "no", "0", "false", "f", "无")
TYPE_LABELS = {
    "text": "文本 text",
    "code": "代码 code",
    "int": "整数 whole number",
    "number": "数值 number",
    "year": "年份 year",
    "date": "日期 date",
    "bool": "是/否 yes/no",
    "uscc": "统一社会信用代码 credit code",
    "enum": "选项 choice",
    "code_list": "代码列表 list of codes",
    "boundary": "边界文件 boundary file or GeoJSON",
}


class Reference(BaseModel):
    """A foreign key: values must exist in `table.column` (optionally filtered by `where`)."""

    model_config = ConfigDict(extra="forbid")
    table: str
    column: str
    where: str | None = None
    lookup: str | None = None
    self: bool = False
    missing: str = "not found"
    # the field whose value qualifies this one: the pair "{qualifier}/{value}" must exist (a chain's link)
    qualifier: str | None = None


class ColumnSpec(BaseModel):
    """One column of an import file."""

    model_config = ConfigDict(extra="forbid")
    field: str
    header: str
    aliases: list[str] = Field(default_factory=list)
    type: ColumnType
    required: bool = False
    description: str
    max_length: int | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    values: dict[str, list[str]] | None = None
    references: Reference | None = None
    store: bool = True  # false: a column that only qualifies another (e.g. a boundary's CRS)
    updates: bool = True  # false: set when a row is inserted, never changed by a re-import

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        if self.type == "enum" and not self.values:
            raise ValueError(f"column {self.header}: an enum needs values")
        if self.pattern:
            re.compile(self.pattern)
        return self

    @property
    def english(self) -> str:
        """The English name (first alias, else the field)."""
        return self.aliases[0] if self.aliases else self.field

    @property
    def declared(self) -> bool:
        """Whether the column is a declared figure stored in the cluster's `declared` JSON."""
        return self.field.startswith("declared.")

    def enum_labels(self) -> dict[str, str]:
        """Normalised accepted word -> stored value, for an enum column."""
        out: dict[str, str] = {}
        for stored, labels in (self.values or {}).items():
            for word in [stored, *labels]:
                out[normalise_value(word)] = stored
        return out


class RowRule(BaseModel):
    """A check across two columns of one row: `left` and `right` are fields of the kind.

    together: both filled or both blank; at_most: left <= right (where both are filled).
    """

    model_config = ConfigDict(extra="forbid")
    rule: Literal["together", "at_most"]
    left: str
    right: str
    reason: str


class YearValidity(BaseModel):
    """Dates derived from a year when a row gives only the year (bureau lists often do).

    A blank `from` becomes 1 January of `year`; a blank `until` becomes the day before `from` plus
    the validity period of the designation's kind, by the one validity rule (policy/validity.py:
    the tier pack in force on `from`, or certificates.yaml), e.g. an SRDI title of 2023 ->
    2023-01-01 .. 2025-12-31. Each derived date is a notice in the row report.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    year: str
    from_: str = Field(alias="from")
    until: str
    kind: str


class ImportKind(BaseModel):
    """One kind of import file: its table, natural key and columns.

    on_conflict: update (upsert), nothing (insert new keys only) or update_only (change rows that
    exist, e.g. a cluster's boundary; the key must reference an existing row).
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    table: str
    title_zh: str
    title_en: str
    key: list[str]
    on_conflict: Literal["update", "nothing", "update_only"] = "update"
    defaults: dict[str, object] = Field(default_factory=dict)
    columns: list[ColumnSpec]
    rules: list[RowRule] = Field(default_factory=list)
    year_validity: YearValidity | None = None

    @model_validator(mode="after")
    def _check(self) -> ImportKind:
        fields = [c.field for c in self.columns]
        missing = [k for k in self.key if k not in fields]
        if missing:
            raise ValueError(f"kind {self.name}: key {missing} is not a column")
        if len(set(fields)) != len(fields):
            raise ValueError(f"kind {self.name}: a field is listed twice")
        unknown = [f for r in self.rules for f in (r.left, r.right) if f not in fields]
        if self.year_validity:
            v = self.year_validity
            unknown += [f for f in (v.year, v.from_, v.until, v.kind) if f not in fields]
        if unknown:
            raise ValueError(f"kind {self.name}: rules name unknown fields {unknown}")
        return self

    def column(self, field: str) -> ColumnSpec:
        """The column spec for a field."""
        return next(c for c in self.columns if c.field == field)

    def names(self) -> dict[str, ColumnSpec]:
        """Every accepted header (normalised) -> its column."""
        out: dict[str, ColumnSpec] = {}
        for col in self.columns:
            for name in [col.header, *col.aliases, col.field]:
                out.setdefault(normalise_header(name), col)
        return out


def normalise_header(text: str) -> str:
    """A header as compared: NFKC (full-width brackets and letters folded), no spaces, lower case."""
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", text).strip("*＊").lower()


def normalise_value(text: str) -> str:
    """A choice or yes/no word as compared: NFKC, no spaces, lower case, curly quotes made straight."""
    text = unicodedata.normalize("NFKC", str(text)).replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", "", text).lower()


@lru_cache(maxsize=1)
def kinds() -> dict[str, ImportKind]:
    """Every import kind, keyed by name, read from import_kinds.yaml."""
    raw = yamlio.safe_load(KINDS_FILE.read_text(encoding="utf-8"))
    return {name: ImportKind(name=name, **spec) for name, spec in raw.items()}


def get_kind(name: str) -> ImportKind:
    """The kind called `name`, or a clear error listing the known ones."""
    known = kinds()
    if name not in known:
        raise KeyError(f"unknown import kind {name!r}; known kinds: {', '.join(known)}")
    return known[name]


def suggest(kind: ImportKind, header: str) -> str | None:
    """The known header closest to an unknown one, or None when nothing is close."""
    names = kind.names()
    close = difflib.get_close_matches(normalise_header(header), list(names), n=1, cutoff=0.6)
    return names[close[0]].header if close else None
