"""Link coverage of a chain in scopes (clusters, counties, cities, the province), all scopes at once.

Per scope and link: the firms assigned to the link, their output, the tier firms among them and the
largest firm's share of the link's output. A link with no firm is missing; with fewer firms than the
map's `weak.min_firms`, or one firm holding more than `weak.max_top_share` of its output, it is weak;
else present. The coverage share is the share of the chain's links with at least one firm.
"""

from __future__ import annotations

import polars as pl

from smecluster.chains.maps import ChainMap

STATUSES = ("present", "weak", "missing")


def links_frame(chain: ChainMap) -> pl.DataFrame:
    """The chain's links in map order: link_id, name, name_en, segment, key, order."""
    return pl.DataFrame(
        {
            "link_id": [link.id for link in chain.links],
            "name": [link.name for link in chain.links],
            "name_en": [link.name_en for link in chain.links],
            "segment": [link.segment for link in chain.links],
            "key": [link.key for link in chain.links],
            "order": list(range(len(chain.links))),
        },
        schema={"link_id": pl.Utf8, "name": pl.Utf8, "name_en": pl.Utf8, "segment": pl.Utf8, "key": pl.Boolean,
                "order": pl.Int32},
    )


def coverage(chain: ChainMap, assigned: pl.DataFrame, scope: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """One row per (scope_id, link) of `chain`: firms, output, tier_firms, top_share, status.

    `assigned`: uscc, chain_id, link_id (chains.assign). `scope`: scope_id, uscc (which firms each scope
    holds; scope ids of scopes with no firm still get rows). `facts`: uscc, output (万元, may be null),
    tier (null when the firm holds no tier). When all three have `row` (the firm's position in the
    registry's firms) the firms are matched by it instead of their credit codes: a region's millions of
    firms by integers.
    """
    links = links_frame(chain)
    key = "row" if all("row" in f.columns for f in (assigned, scope, facts)) else "uscc"
    # the scopes' firms only, found by a hash set of their keys (not a join of the whole registry)
    held = pl.col(key).is_in(scope[key].drop_nulls().unique().implode())
    mine = assigned.lazy().filter((pl.col("chain_id") == chain.id) & held).select(key, "link_id").unique()
    per_link = (
        scope.lazy().select("scope_id", key)
        .join(mine, on=key)
        .join(facts.lazy().filter(held).select(key, "output", "tier"), on=key, how="left")
        .group_by("scope_id", "link_id")
        .agg(
            pl.len().alias("firms"),
            pl.col("output").sum().alias("output"),
            pl.col("tier").is_not_null().sum().alias("tier_firms"),
            (pl.col("output").max() / pl.col("output").sum()).alias("top_share"),
        )
        .collect()
    )
    scopes = scope.select("scope_id").unique()
    weak = chain.weak
    return (
        scopes.join(links, how="cross")
        .join(per_link, on=["scope_id", "link_id"], how="left")
        .with_columns(
            pl.col("firms").fill_null(0).cast(pl.Int64),
            pl.col("output").fill_null(0.0),
            pl.col("tier_firms").fill_null(0).cast(pl.Int64),
            pl.col("top_share").fill_nan(None),
        )
        .with_columns(
            pl.when(pl.col("firms") == 0).then(pl.lit("missing"))
            .when((pl.col("firms") < weak.min_firms) | (pl.col("top_share") > weak.max_top_share))
            .then(pl.lit("weak"))
            .otherwise(pl.lit("present"))
            .alias("status")
        )
        .sort("scope_id", "order")
    )


def summary(table: pl.DataFrame) -> pl.DataFrame:
    """Per scope: links, present, weak, missing, covered (present or weak), coverage_share, key links
    covered and their share."""
    return (
        table.group_by("scope_id")
        .agg(
            pl.len().alias("links"),
            (pl.col("status") == "present").sum().alias("present"),
            (pl.col("status") == "weak").sum().alias("weak"),
            (pl.col("status") == "missing").sum().alias("missing"),
            (pl.col("status") != "missing").sum().alias("covered"),
            pl.col("key").sum().alias("key_links"),
            (pl.col("key") & (pl.col("status") != "missing")).sum().alias("key_covered"),
        )
        .with_columns(
            (pl.col("covered") / pl.col("links")).alias("coverage_share"),
            (pl.col("key_covered") / pl.col("key_links")).alias("key_coverage_share"),
        )
        .sort("scope_id")
    )
