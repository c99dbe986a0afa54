"""Firms to chain links, over whole columns: an override wins, then product keywords, then the class.

Per firm and chain the strongest kind of evidence decides (decision 1402):
1. override: the bureau's (credit code, chain, link) import;
2. keyword in the main products (主营产品), else in the business scope (经营范围): every link one of
   whose keywords occurs (Polars' Aho-Corasick `str.extract_many`, one pass per column);
3. class: the firm's GB/T 4754 code lies within a link's code.
A firm may sit in several links of a chain (a maker of both cells and packs). Every row says why:
`via` (override | keyword | scope_keyword | class) and `evidence` (the keywords, the code, or "override").
"""

from __future__ import annotations

from collections.abc import Iterable

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


# Hits are (row, lk, via, evidence): the firm's row number and the link's integer key, so that the
# grouping and ranking below work on integers, not on 18-character codes (several times faster).
HIT_SCHEMA = {"row": pl.UInt32, "lk": pl.Int32, "via": pl.Utf8, "evidence": pl.Utf8}


def _keyword_hits(firms: pl.DataFrame, column: str, keywords: pl.DataFrame, via: str) -> pl.DataFrame:
    patterns = keywords["keyword"].unique().sort().to_list()
    if not patterns or column not in firms.columns:
        return pl.DataFrame(schema=HIT_SCHEMA)
    found = (
        firms.lazy()
        .filter(pl.col(column).is_not_null())
        .select("row", pl.col(column).str.extract_many(patterns, overlapping=True).alias("keyword"))
        .filter(pl.col("keyword").list.len() > 0)
        .explode("keyword")
        .join(keywords.lazy().select("keyword", "lk"), on="keyword")
        .unique(["row", "lk", "keyword"])
        .with_columns((pl.col("row").cast(pl.Int64) * 65536 + pl.col("lk").cast(pl.Int64)).alias("key"))
        .with_columns(pl.col("key").is_duplicated().alias("several"))
        .collect()
    )
    # Most firms match a link by one keyword: only those with several are grouped (string joins are slow).
    several = (found.filter("several").group_by("row", "lk")
               .agg(pl.col("keyword").sort().str.join("、")))
    return pl.concat([found.filter(~pl.col("several")).select("row", "lk", "keyword"), several]).select(
        "row", "lk", pl.lit(via).alias("via"), pl.col("keyword").alias("evidence"))


def _class_hits(firms: pl.DataFrame, classes: pl.DataFrame) -> pl.DataFrame:
    out = []
    for length in sorted(classes["code"].str.len_chars().unique().to_list()):
        codes = classes.filter(pl.col("code").str.len_chars() == length)
        out.append(
            firms.lazy()
            .select("row", pl.col("industry_code").str.slice(0, length).alias("code"))
            .join(codes.lazy().select("code", "lk"), on="code")
            .select("row", "lk", pl.lit("class").alias("via"), pl.col("code").alias("evidence"))
            .collect()
        )
    return pl.concat(out) if out else pl.DataFrame(schema=HIT_SCHEMA)


def assign_links(firms: pl.DataFrame, maps: list[ChainMap], overrides: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rows (uscc, chain_id, link_id, via, evidence): the links each firm works in, and why.

    `firms` has uscc, industry_code and optionally main_products and business_scope; `overrides` has
    uscc, chain_id, link_id (rows naming a chain or link not in `maps` are ignored).
    """
    links = link_table(maps)
    keywords = keyword_table(maps).join(links, on=["chain_id", "link_id"])
    classes = class_table(maps).join(links, on=["chain_id", "link_id"])
    firms = firms.with_row_index("row")
    main = _keyword_hits(firms, "main_products", keywords, "keyword")
    # The business scope is read only for firms whose main products match no keyword at all.
    rest = firms.join(main.select("row").unique(), on="row", how="anti") if main.height else firms
    scope = _keyword_hits(rest, "business_scope", keywords, "scope_keyword")
    parts = [main, scope, _class_hits(firms, classes)]
    if overrides is not None and overrides.height:
        parts.append(
            overrides.select("uscc", "chain_id", "link_id")
            .join(links, on=["chain_id", "link_id"])
            .join(firms.select("uscc", "row"), on="uscc")
            .select("row", "lk", pl.lit("override").alias("via"), pl.lit("override").alias("evidence"))
        )
    hits = pl.concat([p.cast(HIT_SCHEMA) for p in parts])
    # Integer work only: the chain of a link and the firm's code by position (gather), not by joins.
    chain = links["ck"].to_numpy()[hits["lk"].to_numpy()]
    hits = hits.with_columns(
        pl.col("via").replace_strict(RANK, return_dtype=pl.Int8).alias("rank"),
        (pl.col("row").cast(pl.Int64) * 4096 + pl.Series(chain, dtype=pl.Int64)).alias("firm_chain"),
        (pl.col("lk").cast(pl.Int64) * (1 << 32) + pl.col("row").cast(pl.Int64)).alias("link_firm"),
    )
    hits = (hits.filter(pl.col("rank") == pl.col("rank").min().over("firm_chain"))
            .unique("link_firm", keep="any").sort("link_firm"))
    return pl.DataFrame({
        "uscc": firms["uscc"].gather(hits["row"]),
        "chain_id": links["chain_id"].gather(hits["lk"]),
        "link_id": links["link_id"].gather(hits["lk"]),
        "via": hits["via"],
        "evidence": hits["evidence"],
    }, schema=ASSIGNMENT_SCHEMA)
