"""One ordered sweep over the snapshot's yearly rows for every check that reads all of them.

The snapshot's yearly rows lie in (uscc, year) order and its firms in uscc order, so a yearly row's firm
is a position (an integer key) found by walking both files together: the firm's columns are gathered by
position, never joined on the 18-character credit code. One read of the yearly file, batch by batch,
gives at once what the whole-registry checks need, and DuckDB's SQL (smecluster.quality.sql) then reads
these small tables instead of the registry's:
- `q_win`: the rows some row check may flag, with the neighbouring years' figures (decision 1961) and
  the firm's name, county and industry (by position, not a join on the code);
- `q_peer`: the peer year's rows with the year before's revenue and the firm's industry, section, county;
- `q_digits_<i>`: per Benford check, the first-digit counts per county, year and digit;
- `q_copy_<i>`: per copies-across-firms check, the rows whose figures' hash another row shares;
- `q_main_<i>`: per main-business-revenue check, the profile rows above the year's revenue.
Anything unexpected (rows out of order, a yearly row whose firm is not at the next position, profile
rows not in the yearly rows' order per year) makes `sweep` return None and create nothing: the caller
then runs the SQL over the registry's tables as before (same findings, slower).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from smecluster.quality.catalogue import Catalogue
from smecluster.quality.sql import FIGURES, SEQ_FIELDS

BATCH = 1 << 19  # yearly rows per batch (bounded memory at any registry size)
PEER_COLUMNS = ("uscc", "revenue", "output", "rd_spending", "employees", "total_assets", "p_revenue")
POW10 = np.array([float(10 ** k) for k in range(20)])  # each exact as a double
INV10 = 1.0 / POW10  # not exact: the digit found with it is put right by exact comparisons
K_OF_E = np.floor(np.arange(64) * np.log10(2.0)).astype(np.int64)  # floor(e log10 2), binary exponents 0-63
TABLE_BITS = 12  # mantissa bits of the first-digit table's buckets (63 x 4096 one-byte entries)
TOO_LARGE = 9.0e18  # from here floor(x) leaves BIGINT (the SQL's digit test casts to it)
MAX_DENSE_YEARS = 64  # years a registry may span for the per-year arrays
# batches worked on at once: one more than the cores (each batch has moments holding the GIL), at most 4
# (each holds a batch's columns)
WORKERS = min(4, (os.cpu_count() or 2) + 1)
_DUCKDB = threading.Lock()  # one DuckDB connection, batches in several threads


class Unexpected(Exception):
    """The files are not laid out as the sweep reads them (the caller falls back to the SQL)."""


@dataclass
class Swept:
    """Which tables the sweep made (check id -> table) and whether `q_peer` exists."""

    peer: bool = False
    sources: dict[str, str] = field(default_factory=dict)


def _batches(path: str, columns: list[str]) -> Iterator[pl.DataFrame]:
    """The file's rows in order, `BATCH` at a time, the next batch read while this one is used."""
    rows = pq.read_metadata(path).num_rows
    scan = pl.scan_parquet(path).select(columns)
    starts = list(range(0, rows, BATCH))

    def read(start: int) -> pl.DataFrame:
        return scan.slice(start, BATCH).collect()

    with ThreadPoolExecutor(1) as pool:
        ahead = [pool.submit(read, s) for s in starts[:1]]
        for i in range(len(starts)):
            frame = ahead.pop().result()
            ahead += [pool.submit(read, s) for s in starts[i + 1:i + 2]]
            yield frame


class _Firms:
    """The firms in uscc order: position (the integer key) -> county, industry, section."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        # the same section as q_firm's LEFT JOIN (a firm's division's level-2 row, unique per code)
        if con.sql("SELECT COUNT(*) FROM industry WHERE level = 2 GROUP BY code HAVING COUNT(*) > 1").fetchall():
            raise Unexpected("industry codes repeat")
        sections = con.sql("SELECT code, section FROM industry WHERE level = 2").pl()
        frame = pl.read_parquet(path, columns=["uscc", "county_code", "industry_code"])
        frame = frame.with_columns(pl.col("industry_code").str.slice(0, 2).alias("_division")).join(
            sections.rename({"code": "_division"}), on="_division", how="left", maintain_order="left"
        ).drop("_division")
        self.frame = frame
        self.uscc = frame["uscc"]
        if not self.uscc.is_sorted() or (self.uscc == self.uscc.shift(1)).any():
            raise Unexpected("firms not in uscc order")
        # counties as small integers (0: none) for the digit counts
        counties = frame["county_code"].drop_nulls().unique().sort()
        self.counties: list[str | None] = [None, *counties.to_list()]
        self.county_index = {c: i for i, c in enumerate(self.counties)}
        self.county_idx = frame["county_code"].replace_strict(
            self.county_index, default=0, return_dtype=pl.Int32).to_numpy()
        self.last = -1  # the position of the last firm met

    def keys(self, uscc: pl.Series, previous: str | None) -> np.ndarray:
        """Each row's firm position; the rows are in uscc order, after a row of firm `previous`."""
        starts = (uscc != uscc.shift(1)).fill_null(True).to_numpy().copy()
        if previous is not None and len(uscc) and uscc[0] == previous:
            starts[0] = False
        new = uscc.filter(pl.Series(starts))
        first = self.last + 1
        if first + len(new) <= len(self.uscc) and (self.uscc.slice(first, len(new)) == new).all():
            positions = np.arange(first, first + len(new), dtype=np.int64)
        else:  # some firms have no yearly rows: each new firm's position by a sorted search
            pos = self.uscc.search_sorted(new).cast(pl.Int64)
            if len(new) and (pos.min() < first or pos.max() >= len(self.uscc) or (pos.diff() <= 0).any()
                             or not (self.uscc.gather(pos) == new).all()):
                raise Unexpected("a yearly row's firm is not among the firms, in order")
            positions = pos.to_numpy()
        run = np.cumsum(starts) - 1  # -1: the rows continuing the firm of `previous`
        out = np.where(run < 0, self.last, positions[np.maximum(run, 0)] if len(positions) else self.last)
        if len(positions):
            self.last = int(positions[-1])
        return out.astype(np.int64)


def _exact_first_digit(x: np.ndarray) -> np.ndarray:
    """The first significant digit of floor(x), 1 <= x < TOO_LARGE, without a logarithm: the binary
    exponent e read off the double's bits gives 10^k <= 2^e <= x with k = floor(e log10 2), one short of
    the true power at most (put right by one exact comparison); the digit from x / 10^k is put right the
    same way (d 10^k is exact as a double, and floor(x) >= d 10^k iff x >= d 10^k)."""
    e = (x.view(np.int64) >> 52) - 1023
    k = K_OF_E[e]
    k += x >= POW10[k + 1]
    p = POW10[k]
    d = (x * INV10[k]).astype(np.int64)
    d -= d * p > x
    d += (d < 9) & ((d + 1) * p <= x)
    return d


def _digit_table() -> np.ndarray:
    """The first digit of every double in each bucket of (binary exponent 0-62, top TABLE_BITS mantissa
    bits), 0 where a bucket holds a digit's edge d 10^k. A bucket spans 1/4096 of its values while a
    digit's range spans at least 1/10, so it holds one edge at most: equal digits at both ends mean none."""
    e = np.repeat(np.arange(63), 1 << TABLE_BITS)
    b = np.tile(np.arange(1 << TABLE_BITS), 63)
    lo = np.ldexp(1.0 + b / (1 << TABLE_BITS), e)  # exact: (2^TABLE_BITS + b) 2^(e - TABLE_BITS)
    hi = np.nextafter(np.ldexp(1.0 + (b + 1) / (1 << TABLE_BITS), e), 0.0)
    low, high = _exact_first_digit(lo), _exact_first_digit(hi)
    return np.where(low == high, low, 0).astype(np.int8)


def _first_digit(x: np.ndarray) -> np.ndarray:
    """The first significant digit of floor(x) (= that of x), 1 <= x < TOO_LARGE: one look-up by the
    double's exponent and top mantissa bits, the exact computation only where a bucket holds an edge."""
    d = DIGITS[(x.view(np.int64) >> (52 - TABLE_BITS)) - (1023 << TABLE_BITS)].astype(np.int64)
    edge = np.flatnonzero(d == 0)
    if len(edge):
        d[edge] = _exact_first_digit(x[edge])
    return d


DIGITS = _digit_table()


def sweep(con: duckdb.DuckDBPyConnection, files: dict[str, str], catalogue: Catalogue, where: str,
          peer_year: int | None) -> Swept | None:
    """The tables above, in one ordered read of the yearly rows (and one of the profile rows when a
    main-business-revenue check asks); None (nothing created) when the files are not laid out for it."""
    made: list[str] = []
    try:
        return _sweep(con, files, catalogue, where, peer_year, made)
    except Unexpected:
        for name in made:
            if name == "q_peer":  # a view over rows in memory
                con.unregister(name)
            else:
                con.execute(f"DROP TABLE IF EXISTS {name}")
        return None


def _sweep(con, files, catalogue, where, peer_year, made) -> Swept:
    path = files["enterprise_year"]
    meta = pq.read_metadata(path)
    names = ["uscc", "year", *SEQ_FIELDS]
    if not set(names) <= set(meta.schema.to_arrow_schema().names):
        raise Unexpected("columns missing")
    firms = _Firms(con, files["enterprise"])
    years = pl.scan_parquet(path).select(pl.col("year").min().alias("lo"), pl.col("year").max().alias("hi")).collect()
    y0, y1 = years["lo"][0], years["hi"][0]
    ny = 0 if y0 is None else int(y1) - int(y0) + 1
    if ny > MAX_DENSE_YEARS:
        raise Unexpected("too many years")
    y0 = int(y0 or 0)

    digit_checks = [(i, c) for i, c in enumerate(catalogue.checks) if c.kind == "benford"]
    copy_checks = [(i, c) for i, c in enumerate(catalogue.checks) if c.kind == "identical_across_firms"]
    main_checks = [(i, c) for i, c in enumerate(catalogue.checks) if c.kind == "main_revenue_above_revenue"]
    extra_counties: dict[str, int] = {}  # reported counties the registry's firms do not have
    revenue_by_year: dict[int, list[pl.DataFrame]] = {}  # year -> [(key, revenue)] in uscc order
    parts: dict[str, list] = {"win": [], "peer": [], "digits": [], "copies": []}

    def county_codes(frame: pl.DataFrame, key: np.ndarray) -> np.ndarray:
        """Each row's county (the reported one, else the firm's) as a small integer (0: none)."""
        idx = firms.county_idx[key]
        rep = frame["reported_county"]
        if rep.null_count() < len(rep):
            known = {**firms.county_index, **extra_counties}
            for code in rep.drop_nulls().unique().to_list():
                if code not in known:
                    extra_counties[code] = len(firms.counties) + len(extra_counties)
                    known[code] = extra_counties[code]
            idx = idx.copy()
            idx[rep.is_not_null().to_numpy()] = rep.drop_nulls().replace_strict(known, return_dtype=pl.Int32).to_numpy()
        return idx

    def flush(frame: pl.DataFrame, first: int, count: int, row0: int) -> dict:
        """One batch's share of every table (rows `first`.. of `frame`; the rows around are its neighbours)."""
        # the same firm (integer key) and the year before / after: the neighbours LAG/LEAD would give
        flags = frame.lazy().with_columns(
            ((pl.col("_key") == pl.col("_key").shift(1)) & (pl.col("year") == pl.col("year").shift(1) + 1)).alias("_p"),
            ((pl.col("_key") == pl.col("_key").shift(-1)) & (pl.col("year") == pl.col("year").shift(-1) - 1))
            .alias("_n"))
        shifted = flags.with_columns(
            [pl.when(pl.col("_p")).then(pl.col(c).shift(1)).alias(f"p_{c}") for c in SEQ_FIELDS]
            + [pl.when(pl.col("_n")).then(pl.col(c).shift(-1)).alias(f"n_{c}") for c in FIGURES]
        ).drop("_p", "_n", "_county").slice(first, count)
        got: dict = {"win": _candidates(con, shifted, where)}
        out = frame.slice(first, count)
        key = out["_key"].to_numpy()
        if peer_year is not None:
            mine = (out["year"] == peer_year).to_numpy()
            k = key[mine]
            before = flags.select(pl.when(pl.col("_p")).then(pl.col("revenue").shift(1)).alias("p_revenue"))
            got["peer"] = out.with_columns(before.slice(first, count).collect().to_series()).filter(
                pl.Series(mine)).select(PEER_COLUMNS).with_columns(
                firms.frame["industry_code"].gather(k).alias("industry_code"),
                firms.frame["section"].gather(k).alias("section"),
                firms.frame["county_code"].gather(k).alias("county_code"))
        if digit_checks:
            cell = (out["_county"].to_numpy().astype(np.int64) * max(ny, 1) + (out["year"].to_numpy() - y0)) * 10
            got["digits"] = {}
            for i, check in digit_checks:
                lo = float(check.params["min_value"])
                counts = np.zeros(0, dtype=np.int64)
                for f in check.params["fields"]:
                    x = out[f].cast(pl.Float64).to_numpy()  # NULL -> NaN: never >= lo
                    take = x >= lo
                    if take.any() and x[take].max() >= TOO_LARGE:
                        raise Unexpected("a figure too large for the digit test's integers")
                    more = np.bincount(cell[take] + _first_digit(x[take]))
                    counts = _plus(counts, more)
                got["digits"][i] = counts
        got["copies"] = {}
        for i, check in copy_checks:
            h, present = _row_hash(out, list(check.params["fields"]))
            rows = np.flatnonzero(present >= int(check.params["min_fields"]))
            got["copies"][i] = (h[rows], rows + row0)
        if main_checks:
            got["revenue"] = [(int(year), part.drop("year")) for (year,), part in out.select(
                "year", "revenue", pl.Series("_key", key.astype(np.int32))).group_by("year", maintain_order=True)]
        return got

    def merge(got: dict) -> None:
        parts["win"].append(got["win"])
        if "peer" in got:
            parts["peer"].append(got["peer"])
        for i, counts in got.get("digits", {}).items():
            digit_counts[i] = _plus(digit_counts.get(i, np.zeros(0, dtype=np.int64)), counts)
        for i, pair in got["copies"].items():
            copy_parts.setdefault(i, []).append(pair)
        for year, part in got.get("revenue", []):
            revenue_by_year.setdefault(year, []).append(part)

    digit_counts: dict[int, np.ndarray] = {}
    copy_parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    previous: str | None = None
    prev_tail: pl.DataFrame | None = None
    pending: pl.DataFrame | None = None
    row0 = 0
    running: deque[Future] = deque()
    with ThreadPoolExecutor(WORKERS) as pool:  # batches in parallel (Polars and NumPy let go of the GIL)
        def submit(frames: list[pl.DataFrame], first: int, count: int) -> None:
            nonlocal row0
            while len(running) >= WORKERS:
                merge(running.popleft().result())
            running.append(pool.submit(flush, pl.concat(frames), first, count, row0))
            row0 += count

        last_year = None
        for frame in _batches(path, names):
            # firms in uscc order: their positions only grow (keys() checks); years grow within a firm
            key = firms.keys(frame["uscc"], previous)
            year = frame["year"].to_numpy()
            if (year[1:][key[1:] == key[:-1]] <= year[:-1][key[1:] == key[:-1]]).any() or (
                    previous is not None and len(key) and frame["uscc"][0] == previous and year[0] <= last_year):
                raise Unexpected("yearly rows not in (uscc, year) order")
            last_year = int(year[-1]) if len(year) else last_year
            frame = frame.with_columns(pl.Series("_key", key), pl.Series("_county", county_codes(frame, key)))
            previous = frame["uscc"][-1] if frame.height else previous
            if pending is not None:
                submit([p for p in (prev_tail, pending, frame.head(1)) if p is not None],
                       0 if prev_tail is None else 1, pending.height)
                prev_tail = pending.tail(1)
            pending = frame
        if pending is not None:
            submit([p for p in (prev_tail, pending) if p is not None], 0 if prev_tail is None else 1, pending.height)
        while running:
            merge(running.popleft().result())
    if not parts["win"]:
        raise Unexpected("no yearly rows")
    # What is left is made in two threads: the profile rows read for the main-revenue checks, the copies'
    # shared hashes, the candidates' firm names (each mostly NumPy, Polars or Parquet work that lets go of
    # the GIL); the small tables are then handed to DuckDB here, on the connection's thread.
    by_year = {y: pl.concat(parts) for y, parts in revenue_by_year.items()}
    revenue_by_year.clear()
    with ThreadPoolExecutor(2) as tail:
        above = [(i, check, tail.submit(_main_above, files["enterprise_profile"], by_year, firms,
                                        float(check.params.get("ratio", 1.0)))) for i, check in main_checks]
        copies = [(i, check, tail.submit(_copies, path, copy_parts.pop(i, []), check)) for i, check in copy_checks]
        win = tail.submit(_with_firm, pl.concat(parts["win"]), firms, files["enterprise"])
        swept = Swept()
        if peer_year is not None:
            peer = pl.concat(parts["peer"]) if parts["peer"] else _empty_peer(con)
            parts["peer"].clear()
            # a view over the rows in memory (the peer check reads them once; no copy into DuckDB)
            con.register("q_peer", peer.to_arrow())
            made.append("q_peer")
            swept.peer = True
        counties = [*firms.counties, *extra_counties]
        for i, check in digit_checks:
            counts = digit_counts.get(i, np.zeros(0, dtype=np.int64))
            cells = np.flatnonzero(counts)
            table = pl.DataFrame({
                "county_code": pl.Series([counties[c] for c in (cells // 10 // max(ny, 1)).tolist()], dtype=pl.Utf8),
                "year": pl.Series(cells // 10 % max(ny, 1) + y0, dtype=pl.Int32),
                "d": pl.Series(cells % 10, dtype=pl.Int64), "k": pl.Series(counts[cells], dtype=pl.Int64)})
            _table(con, f"q_digits_{i}", table, made)
            swept.sources[check.id] = f"q_digits_{i}"
        _table(con, "q_win", win.result(), made)
        for i, check, table in copies:
            _table(con, f"q_copy_{i}", table.result(), made)
            swept.sources[check.id] = f"q_copy_{i}"
        for i, check, table in above:
            _table(con, f"q_main_{i}", table.result(), made)
            swept.sources[check.id] = f"q_main_{i}"
    return swept


def _copies(path: str, pairs: list[tuple[np.ndarray, np.ndarray]], check) -> pl.DataFrame:
    """The yearly rows whose hash another row shares (read back from the file: the copies check compares
    their figures themselves). `pairs`: per batch, the hashes and their row numbers."""
    if not pairs:
        return _rows_at(path, np.zeros(0, dtype=np.int64), ["uscc", "year", *check.params["fields"]])
    h = np.concatenate([p[0] for p in pairs])
    # the hashes two rows share: sorted, equal to a neighbour (one sort of every hash costs less CPU than
    # sorting each batch's and merging the runs); the two halves of the hash range sorted side by side
    high = (h >> np.uint64(63)).astype(bool)
    halves = [h[~high], h[high]]
    del h, high
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(np.ndarray.sort, halves))  # in place
    twice = np.unique(np.concatenate([o[1:][o[1:] == o[:-1]] for o in halves]))
    del halves
    shared = np.sort(np.concatenate([rows[np.isin(hashes, twice)] for hashes, rows in pairs]))
    return _rows_at(path, shared, ["uscc", "year", *check.params["fields"]])


def _candidates(con: duckdb.DuckDBPyConnection, rows: pl.LazyFrame, where: str) -> pl.DataFrame:
    """The rows meeting `where` (DuckDB's SQL over `y`): by Polars' SQL when it reads the condition
    (a prefilter only: every row check filters `q_cand` again in DuckDB), else by DuckDB."""
    table = rows.collect()
    try:
        # The condition is read over the integer figures as doubles: Polars compares an integer column with
        # a double one (`employees >= 10.0 * p_employees`) ten times slower than two doubles, and DuckDB
        # compares them as doubles too. Only the mask is computed so; the rows keep their own types.
        ints = [c for c, t in table.schema.items() if t.is_integer() and c != "_key"]
        probe = table.lazy().with_columns(pl.col(ints).cast(pl.Float64))
        keep = pl.SQLContext(y=probe).execute(f"SELECT ({where}) AS _keep FROM y").collect().to_series()
        return table.filter(keep.fill_null(False))
    except Exception:  # noqa: BLE001  (a condition Polars' SQL does not read: DuckDB reads every one)
        with _DUCKDB:  # one connection, batches in several threads
            con.register("q_batch", table.to_arrow())
            try:
                return con.sql(f"SELECT * FROM q_batch y WHERE {where}").pl()
            finally:
                con.unregister("q_batch")


def _with_firm(rows: pl.DataFrame, firms: _Firms, path: str) -> pl.DataFrame:
    """The candidate rows with their firm's name, county and industry, found by position (`_key`): the
    county and industry from the firms in memory, the names gathered from the firm file's name column."""
    key = rows["_key"].to_numpy()
    firm_rows = np.unique(key)
    names = pl.scan_parquet(path).select(pl.col("name").gather(firm_rows)).collect().to_series()
    names = names.gather(np.searchsorted(firm_rows, key))
    return rows.drop("_key").with_columns(
        names.alias("name"),
        firms.frame["county_code"].gather(key).alias("county_code"),
        firms.frame["industry_code"].gather(key).alias("industry_code"))


def _plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two count arrays added (the shorter one padded with zeros)."""
    if len(a) < len(b):
        a, b = b, a
    out = a.copy()
    out[: len(b)] += b
    return out


def _row_hash(rows: pl.DataFrame, fields: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each row's year and figures (Polars' row hash: equal rows, NULLs alike, hash
    alike; -0.0 made 0.0 first), and how many of the figures are present and not zero. A shared hash only
    names candidates: the copies check compares the figures themselves."""
    cols = [pl.col("year")] + [pl.col(f) + 0.0 if rows.schema[f].is_float() else pl.col(f) for f in fields]
    h = rows.select(cols).hash_rows(seed=0).to_numpy()
    present = rows.select(pl.sum_horizontal([(pl.col(f) != 0).fill_null(False) for f in fields])
                          .cast(pl.Int64)).to_series().to_numpy()
    return h, present


def _table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, made: list[str]) -> None:
    con.register(f"{name}_rows", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_rows")
    con.unregister(f"{name}_rows")
    made.append(name)


def _rows_at(path: str, rows: np.ndarray, columns: list[str]) -> pl.DataFrame:
    """The file's rows at these (sorted) row numbers: only the row groups holding them are read."""
    source = pq.ParquetFile(path)
    if not len(rows):
        return pl.from_arrow(source.schema_arrow.empty_table().select(columns))
    bounds = np.cumsum([0] + [source.metadata.row_group(g).num_rows for g in range(source.num_row_groups)])
    parts = []
    for g in np.unique(np.searchsorted(bounds, rows, side="right") - 1).tolist():
        mine = rows[(rows >= bounds[g]) & (rows < bounds[g + 1])] - bounds[g]
        parts.append(pl.from_arrow(source.read_row_group(g, columns=columns)).gather(mine))
    return pl.concat(parts)


def _main_above(path: str, by_year: dict[int, pl.DataFrame], firms: _Firms, ratio: float) -> pl.DataFrame:
    """Profile rows whose main revenue is above `ratio` x the year's revenue: the profile's rows of each
    year in uscc order are the yearly rows of that year in the same order (checked row by row)."""
    at = {y: 0 for y in by_year}
    parts = []
    for frame in _batches(path, ["uscc", "year", "main_revenue"]):
        for (year,), part in frame.group_by("year", maintain_order=True):
            year = int(year)
            rows = by_year.get(year)
            start = at.get(year, 0)
            if rows is None or start + part.height > rows.height:
                raise Unexpected("profile rows without yearly rows")
            mine = rows.slice(start, part.height)
            key = mine["_key"]
            if part.height and key[-1] - key[0] + 1 == part.height and (key.diff().drop_nulls() == 1).all():
                codes = firms.uscc.slice(key[0], part.height)  # every firm of the range: no gather
            else:
                codes = firms.uscc.gather(key)
            if not (codes == part["uscc"]).all():
                raise Unexpected("profile rows not in the yearly rows' order")
            at[year] = start + part.height
            both = part.with_columns(mine["revenue"])
            parts.append(both.filter(pl.col("main_revenue") > ratio * pl.col("revenue")))
    if any(at.get(y, 0) != f.height for y, f in by_year.items()):
        raise Unexpected("yearly rows without profile rows")
    schema = {"uscc": pl.Utf8, "year": pl.Int32, "main_revenue": pl.Float64, "revenue": pl.Float64}
    return pl.concat(parts).select(list(schema)) if parts else pl.DataFrame(schema=schema)


def _empty_peer(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return pl.DataFrame(schema={"uscc": pl.Utf8, "revenue": pl.Float64, "output": pl.Float64,
                                "rd_spending": pl.Float64, "employees": pl.Int64, "total_assets": pl.Float64,
                                "p_revenue": pl.Float64, "industry_code": pl.Utf8, "section": pl.Utf8,
                                "county_code": pl.Utf8})
