"""Firms to chain links, over whole columns: an override wins, then product keywords, then the class.

Per firm and chain the strongest kind of evidence decides (decision 1402):
1. override: the bureau's (credit code, chain, link) import;
2. keyword in the main products (主营产品), else (for a chain none of whose keywords the main products
   name: decision 2100) in the business scope (经营范围): every link one of whose keywords occurs
   (Polars' Aho-Corasick `str.extract_many`, one pass per column);
3. class: the firm's GB/T 4754 code lies within a link's code.
The matcher runs once per distinct text (a registry repeats its product phrases: tens of thousands of
texts for millions of firms) and each firm takes its text's links through the text's integer code; the
ranking works on integers (firm row, link key, chain bits) and the strings are gathered once at the end.
A firm may sit in several links of a chain (a maker of both cells and packs). Every row says why:
`via` (override | keyword | scope_keyword | class) and `evidence` (the keywords, the code, or "override").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from smecluster.chains.maps import ChainMap

ASSIGNMENT_SCHEMA = {"uscc": pl.Utf8, "chain_id": pl.Utf8, "link_id": pl.Utf8, "via": pl.Utf8, "evidence": pl.Utf8}
RANK = {"override": 0, "keyword": 1, "scope_keyword": 2, "class": 3}


def link_table(maps: Iterable[ChainMap]) -> pl.DataFrame:
    """(lk, chain_id, link_id, ck): every link of the maps with a small integer key, and its chain's key."""
    rows = [(m.id, link.id, ci) for ci, m in enumerate(maps) for link in m.links]
    return pl.DataFrame(rows, schema={"chain_id": pl.Utf8, "link_id": pl.Utf8, "ck": pl.Int32}, orient="row") \
        .with_row_index("lk").with_columns(pl.col("lk").cast(pl.Int32))


def keyword_table(maps: Iterable[ChainMap]) -> pl.DataFrame:
    """(chain_id, link_id, keyword) for every keyword of every link."""
    rows = [(m.id, link.id, k) for m in maps for link in m.links for k in link.keywords]
    return pl.DataFrame(rows, schema={"chain_id": pl.Utf8, "link_id": pl.Utf8, "keyword": pl.Utf8}, orient="row")


def class_table(maps: Iterable[ChainMap]) -> pl.DataFrame:
    """(chain_id, link_id, code) for every industry code of every link."""
    rows = [(m.id, link.id, c) for m in maps for link in m.links for c in link.classes]
    return pl.DataFrame(rows, schema={"chain_id": pl.Utf8, "link_id": pl.Utf8, "code": pl.Utf8}, orient="row")


VIA = ("override", "keyword", "scope_keyword", "class")  # by rank: the first kind present for a (firm, chain) wins
HIT_SCHEMA = {"row": pl.UInt32, "lk": pl.Int32, "via": pl.Int8, "ev": pl.UInt32}


def _encode(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(code per row, null where the value is null; the distinct values, indexed by code): one hashing
    pass over the column (a Categorical of its own, freed with it)."""
    cat = values.cast(pl.Categorical(pl.Categories.random()))
    distinct = cat.drop_nulls().unique()
    order = distinct.to_physical().arg_sort()
    return cat.to_physical(), distinct.cast(pl.Utf8).gather(order)


def _text_links(texts: pl.Series, keywords: pl.DataFrame) -> pl.DataFrame:
    """(code, lk, evidence) for each distinct text (code = its position) matching a link's keywords; the
    evidence is the link's keywords found, sorted and joined by 、."""
    patterns = keywords["keyword"].unique().sort().to_list()
    schema = {"code": pl.UInt32, "lk": pl.Int32, "evidence": pl.Utf8}
    if not patterns or texts.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        pl.DataFrame({"text": texts}).with_row_index("code").lazy()
        .select("code", pl.col("text").str.extract_many(patterns, overlapping=True).alias("keyword"))
        .filter(pl.col("keyword").list.len() > 0)
        .explode("keyword")
        .join(keywords.lazy().select("keyword", "lk"), on="keyword")
        .unique(["code", "lk", "keyword"])
        .group_by("code", "lk")
        .agg(pl.col("keyword").sort().str.join("、").alias("evidence"))
        .sort("code", "lk")
        .collect()
        .cast(schema)
    )


def _class_links(codes: pl.Series, classes: pl.DataFrame) -> pl.DataFrame:
    """(code, lk, evidence) for each distinct industry code (code = its position) within a link's code; a
    link's 3- and 4-digit codes may both hold it: the longer, more specific, is the evidence."""
    schema = {"code": pl.UInt32, "lk": pl.Int32, "evidence": pl.Utf8}
    if classes.is_empty() or codes.is_empty():
        return pl.DataFrame(schema=schema)
    distinct = pl.DataFrame({"industry_code": codes}).with_row_index("code")
    found = pl.concat([
        distinct.with_columns(pl.col("industry_code").str.slice(0, n).alias("prefix"))
        .join(classes.filter(pl.col("code").str.len_chars() == n).select(pl.col("code").alias("prefix"), "lk"),
              on="prefix")
        for n in sorted(classes["code"].str.len_chars().unique().to_list())
    ])
    return (found.sort(pl.col("prefix").str.len_bytes(), descending=True).unique(["code", "lk"], keep="first")
            .select("code", "lk", pl.col("prefix").alias("evidence")).sort("code", "lk").cast(schema))


def _chain_bits(found: pl.DataFrame, chain_of_link: np.ndarray, size: int) -> np.ndarray:
    """Per distinct code: the bit mask of the chains its links belong to (chain keys below 63)."""
    bits = np.zeros(size, dtype=np.uint64)
    if found.height:
        np.bitwise_or.at(bits, found["code"].to_numpy(),
                         np.left_shift(np.uint64(1), chain_of_link[found["lk"].to_numpy()].astype(np.uint64)))
    return bits


def _rows_hits(rows: pl.DataFrame, column: str, found: pl.DataFrame, via: int, offset: int) -> pl.DataFrame:
    """(row, lk, via, ev) of the firms whose `column` code has links in `found`; ev = offset + position in found."""
    table = found.with_row_index("ev").select(pl.col("code").alias(column), "lk",
                                              (pl.col("ev") + offset).cast(pl.UInt32).alias("ev"))
    return (rows.lazy().select("row", column).join(table.lazy(), on=column)
            .select("row", "lk", pl.lit(via, pl.Int8).alias("via"), "ev").collect().cast(HIT_SCHEMA))


@dataclass
class LinkKeys:
    """An assignment as integers, in link order and then the firms' order: per row of the assignment the
    firm's position in `firms` (`row`), the link's key in `links` (`lk`) and the evidence's position in
    `evidence` (`ev`); `via` holds the kind of evidence (an index into VIA) of each evidence."""

    row: pl.Series
    lk: pl.Series
    ev: pl.Series
    links: pl.DataFrame  # lk, chain_id, link_id, ck
    evidence: pl.Series
    via: pl.Series

    def frame(self, uscc: pl.Series, rows: bool = False, lo: int = 0, hi: int | None = None) -> pl.DataFrame:
        """Rows lo..hi as (uscc, chain_id, link_id, via, evidence[, row]); `uscc`: the firms' codes by row."""
        row, lk, ev = (s.slice(lo, (len(s) if hi is None else hi) - lo) for s in (self.row, self.lk, self.ev))
        out = pl.DataFrame({
            "uscc": uscc.gather(row),
            "chain_id": self.links["chain_id"].gather(lk),
            "link_id": self.links["link_id"].gather(lk),
            "via": pl.Series(VIA).gather(self.via.gather(ev)),
            "evidence": self.evidence.gather(ev),
        }, schema=ASSIGNMENT_SCHEMA)
        return out.with_columns(row.alias("row")) if rows else out


def assign_links(firms: pl.DataFrame, maps: list[ChainMap], overrides: pl.DataFrame | None = None,
                 rows: bool = False) -> pl.DataFrame:
    """Rows (uscc, chain_id, link_id, via, evidence): the links each firm works in, and why, in link order
    and then the firms' order; with `rows`, also `row`, the firm's position in `firms` (later steps then
    look firms up by position, not by credit code).

    `firms` has uscc, industry_code and optionally main_products and business_scope; `overrides` has
    uscc, chain_id, link_id (rows naming a chain or link not in `maps` are ignored).
    """
    return assign_keys(firms, maps, overrides).frame(firms["uscc"], rows)


def assign_keys(firms: pl.DataFrame, maps: list[ChainMap], overrides: pl.DataFrame | None = None) -> LinkKeys:
    """`assign_links` as integer keys (the kept form: chains.stored)."""
    links = link_table(maps)
    keywords = keyword_table(maps).join(links, on=["chain_id", "link_id"])
    classes = class_table(maps).join(links, on=["chain_id", "link_id"])
    chain_of_link = links["ck"].to_numpy().astype(np.int64)
    n = firms.height
    none = pl.Series([], dtype=pl.Utf8)
    columns, distinct = {}, {}
    for column in ("main_products", "business_scope", "industry_code"):
        if column in firms.columns:
            columns[column], distinct[column] = _encode(firms.get_column(column))
        else:
            columns[column], distinct[column] = pl.Series(column, [None] * n, dtype=pl.UInt32), none
    table = pl.DataFrame({"row": pl.arange(0, n, dtype=pl.UInt32, eager=True), **columns})
    main = _text_links(distinct["main_products"], keywords)
    scope = _text_links(distinct["business_scope"], keywords)
    by_class = _class_links(distinct["industry_code"], classes)
    evidence = pl.concat([main["evidence"], scope["evidence"], by_class["evidence"], pl.Series(["override"])])
    # Per firm and chain (decision 2100): the business scope counts for a chain none of whose keywords
    # the main products name, and the class for a chain no keyword of either placed the firm in; so a
    # chain's links do not depend on which other chains are asked about.
    main_hits = _rows_hits(table, "main_products", main, 1, 0)
    scope_hits = _rows_hits(table, "business_scope", scope, 2, main.height)
    classed = _rows_hits(table, "industry_code", by_class, 3, main.height + scope.height)
    if links.height and links["ck"].max() < 63:
        # the chains each firm's main products and business scope matched, as bits
        main_bits = _chain_bits(main, chain_of_link, len(distinct["main_products"]) + 1)
        scope_bits = _chain_bits(scope, chain_of_link, len(distinct["business_scope"]) + 1)
        main_code = table["main_products"].fill_null(len(distinct["main_products"])).to_numpy()
        scope_code = table["business_scope"].fill_null(len(distinct["business_scope"])).to_numpy()
        firm_main = main_bits[main_code]
        if scope_hits.height:
            scope_hits = scope_hits.filter(pl.Series(
                (firm_main[scope_hits["row"].to_numpy()] & _bit(scope_hits, chain_of_link)) == 0))
        if classed.height:
            firm_bits = (firm_main | scope_bits[scope_code])[classed["row"].to_numpy()]
            classed = classed.filter(pl.Series((firm_bits & _bit(classed, chain_of_link)) == 0))
    else:
        fc = _firm_chain(main_hits, chain_of_link)
        scope_hits = (scope_hits.with_columns(_firm_chain(scope_hits, chain_of_link))
                      .join(pl.DataFrame(fc), on="fc", how="anti").drop("fc"))
        text = pl.concat([main_hits, scope_hits])
        classed = (classed.with_columns(_firm_chain(classed, chain_of_link))
                   .join(text.select(_firm_chain(text, chain_of_link)), on="fc", how="anti").drop("fc"))
    parts = [main_hits, scope_hits]
    hits = pl.concat([*parts, classed])
    if overrides is not None and overrides.height:
        said = (overrides.select("uscc", "chain_id", "link_id")
                .join(links, on=["chain_id", "link_id"])
                .join(firms.select("uscc").with_row_index("row"), on="uscc")
                .select("row", "lk", pl.lit(0, pl.Int8).alias("via"), pl.lit(evidence.len() - 1).alias("ev"))
                .cast(HIT_SCHEMA))
        replaced = _firm_chain(said, chain_of_link).implode()
        hits = pl.concat([hits.filter(~_firm_chain(hits, chain_of_link).is_in(replaced)), said])
    via_of_evidence = np.repeat(np.array([1, 2, 3, 0], dtype=np.uint32),
                                [main.height, scope.height, by_class.height, 1])
    row, lk, _via, ev = _in_link_order(hits, links.height, n, via_of_evidence)
    return LinkKeys(row, lk, ev, links, evidence, pl.Series(via_of_evidence, dtype=pl.UInt32))


def _in_link_order(hits: pl.DataFrame, n_links: int, n_firms: int, via_of_evidence: np.ndarray):
    """(row, lk, via, ev) of the hits sorted by link, then firm. When the three keys fit in 63 bits they
    are packed into one integer and only that column is sorted (its bits give them back: a third of the
    cost of sorting the frame); the kind of evidence follows from the evidence's position."""
    bits = [max(1, int(k - 1).bit_length()) for k in (n_links, n_firms, len(via_of_evidence))]
    if sum(bits) > 63:
        hits = hits.sort(pl.col("lk").cast(pl.Int64) * (1 << 32) + pl.col("row").cast(pl.Int64))
        return hits["row"], hits["lk"], hits["via"], hits["ev"]
    _, b_row, b_ev = bits
    key = (hits["lk"].cast(pl.Int64) * (1 << (b_row + b_ev)) + hits["row"].cast(pl.Int64) * (1 << b_ev)
           + hits["ev"].cast(pl.Int64)).sort().to_numpy()
    ev = key & ((1 << b_ev) - 1)
    return (pl.Series((key >> b_ev) & ((1 << b_row) - 1), dtype=pl.UInt32),
            pl.Series(key >> (b_row + b_ev), dtype=pl.UInt32),
            pl.Series(via_of_evidence[ev], dtype=pl.UInt32), pl.Series(ev, dtype=pl.UInt32))


def _bit(hits: pl.DataFrame, chain_of_link: np.ndarray) -> np.ndarray:
    """Each hit's chain as a bit (chain keys below 63)."""
    return np.left_shift(np.uint64(1), chain_of_link[hits["lk"].to_numpy()].astype(np.uint64))


def _firm_chain(hits: pl.DataFrame, chain_of_link: np.ndarray) -> pl.Series:
    """row x 4096 + the chain's key: one integer per (firm, chain) of `hits`."""
    chain = chain_of_link[hits["lk"].to_numpy()]
    return pl.Series("fc", hits["row"].to_numpy().astype(np.int64) * 4096 + chain)
