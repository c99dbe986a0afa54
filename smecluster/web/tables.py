"""Long tables: sort, filter and pages from the query string, the same for every page (decision 1940).

A page declares its table once (`TableSpec`: a name, the sortable keys, the keys the filter text
searches, the default order) and hands its rows to `table_page` (rows in memory) or `sql_table_page`
(a SELECT the database cuts). The query parameters carry the table's name as a prefix
(`counties_sort=enterprises&counties_order=desc&counties_q=昆山&counties_page=2`), so that two tables
on one page keep their own state and every other parameter of the page stays in the links. Links and a
plain GET form do everything: no JavaScript is needed, and on a phone the sort is a select in the
form (the header row is hidden there, decision 1800).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

PER_PAGE_CHOICES = (20, 50, 200)
MAX_FILTER = 50


@dataclass(frozen=True)
class TableSpec:
    """One long table: its name (the query parameters' prefix), sortable keys, searched keys and order."""

    name: str
    sortable: tuple[str, ...]
    default_sort: str
    default_desc: bool = False
    search: tuple[str, ...] = ()
    per_page: int = PER_PAGE_CHOICES[0]

    def param(self, what: str) -> str:
        """The query parameter of `what` (sort, order, q, page, per) for this table."""
        return f"{self.name}_{what}"


@dataclass
class TablePage:
    """The rows of one page of a table, with what the template needs for its links and form."""

    spec: TableSpec
    rows: list[Any]
    total: int
    matched: int
    sort: str
    desc: bool
    q: str
    page: int
    per: int
    other: list[tuple[str, str]] = field(default_factory=list)  # the page's other query parameters

    @property
    def pages(self) -> int:
        """How many pages the filtered rows fill (at least one)."""
        return max(1, -(-self.matched // self.per))

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row (0 when nothing matched)."""
        return 0 if not self.matched else (self.page - 1) * self.per + 1

    @property
    def last(self) -> int:
        """The 1-based position of the page's last row."""
        return min(self.matched, self.page * self.per)

    def _state(self) -> dict[str, str]:
        s = self.spec
        state = {}
        if self.sort != s.default_sort or self.desc != s.default_desc:
            state[s.param("sort")] = self.sort
            state[s.param("order")] = "desc" if self.desc else "asc"
        if self.q:
            state[s.param("q")] = self.q
        if self.per != s.per_page:
            state[s.param("per")] = str(self.per)
        if self.page != 1:
            state[s.param("page")] = str(self.page)
        return state

    def href(self, **changes: Any) -> str:
        """A link to this page of the site with the table's state changed (sort, desc, q, page, per)."""
        state = {"sort": self.sort, "desc": self.desc, "q": self.q, "page": self.page, "per": self.per}
        state.update(changes)
        moved = TablePage(self.spec, [], self.total, self.matched, state["sort"], state["desc"], state["q"],
                          state["page"], state["per"], self.other)
        query = urlencode(self.other + list(moved._state().items()))
        return f"?{query}" if query else "?"

    def sort_href(self, key: str) -> str:
        """The link of a column header: sort by `key`, or reverse the order when it already is."""
        if key == self.sort:
            return self.href(desc=not self.desc, page=1)
        return self.href(sort=key, desc=False, page=1)

    def aria_sort(self, key: str) -> str:
        """The header's aria-sort value for `key`."""
        if key != self.sort:
            return "none"
        return "descending" if self.desc else "ascending"

    def page_links(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last and those near this one; None marks a gap."""
        shown = sorted({1, self.pages, *range(max(1, self.page - around), min(self.pages, self.page + around) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out

    @property
    def per_choices(self) -> list[int]:
        """The page sizes offered in the form."""
        return sorted({self.spec.per_page, *PER_PAGE_CHOICES})

    def hidden(self) -> list[tuple[str, str]]:
        """The page's other parameters, for hidden fields of the table's filter form."""
        return list(self.other)


def read_state(spec: TableSpec, query: Mapping[str, str]) -> tuple[str, bool, str, int, int]:
    """(sort, descending, filter text, page, rows per page) from the query; unknown values fall back to
    the table's defaults rather than refuse the page."""
    sort = query.get(spec.param("sort"), spec.default_sort)
    if sort not in spec.sortable:
        sort = spec.default_sort
    order = query.get(spec.param("order"))
    desc = order == "desc" if order in ("asc", "desc") else spec.default_desc
    q = " ".join((query.get(spec.param("q")) or "").split())[:MAX_FILTER]
    try:
        per = int(query.get(spec.param("per"), spec.per_page))
    except ValueError:
        per = spec.per_page
    if per not in PER_PAGE_CHOICES and per != spec.per_page:
        per = spec.per_page
    try:
        page = max(1, int(query.get(spec.param("page"), 1)))
    except ValueError:
        page = 1
    return sort, desc, q, page, per


def _others(spec: TableSpec, query: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    own = {spec.param(w) for w in ("sort", "order", "q", "page", "per")}
    return [(k, v) for k, v in query if k not in own]


def _get(row: Any, key: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(key)
    return getattr(row, key, None)


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (2, 0, "")
    if isinstance(value, bool | int | float):
        return (0, value, "")
    return (1, 0, str(value))


def table_page(spec: TableSpec, rows: Sequence[Any], query: Any) -> TablePage:
    """One page of `rows` (dicts or objects) sorted, filtered and cut as the query asks. `query` is the
    request's query parameters (a Starlette QueryParams or a mapping)."""
    sort, desc, q, page, per = read_state(spec, query)
    kept = list(rows)
    if q:
        needle = q.casefold()
        kept = [r for r in kept if any(needle in str(_get(r, k) or "").casefold() for k in spec.search)]
    # missing values last in either order
    present = [r for r in kept if _get(r, sort) is not None]
    absent = [r for r in kept if _get(r, sort) is None]
    present.sort(key=lambda r: _sort_key(_get(r, sort)), reverse=desc)
    kept = present + absent
    pages = max(1, -(-len(kept) // per))
    page = min(page, pages)
    items = query.multi_items() if hasattr(query, "multi_items") else list(query.items())
    return TablePage(spec, kept[(page - 1) * per: page * per], len(rows), len(kept), sort, desc, q, page, per,
                     _others(spec, items))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def sql_table_page(
    spec: TableSpec, session: Session, stmt: Select, columns: Mapping[str, ColumnElement], query: Any
) -> TablePage:
    """One page of a SELECT: the filter as ILIKE (any case) over the searched columns, the order and the cut done by
    the database (a cluster of thousands of members reads only the page's rows). `columns` maps the
    spec's keys to the statement's columns."""
    sort, desc, q, page, per = read_state(spec, query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    if q:
        stmt = stmt.where(or_(*(columns[k].ilike(_like(q), escape="\\") for k in spec.search)))
    matched = session.scalar(select(func.count()).select_from(stmt.subquery())) if q else total
    pages = max(1, -(-matched // per))
    page = min(page, pages)
    order = columns[sort].desc() if desc else columns[sort].asc()
    tie = [columns[k] for k in spec.sortable if k != sort][:1]
    rows = session.execute(stmt.order_by(order, *tie).offset((page - 1) * per).limit(per)).all()
    items = query.multi_items() if hasattr(query, "multi_items") else list(query.items())
    return TablePage(spec, list(rows), total, matched, sort, desc, q, page, per, _others(spec, items))
