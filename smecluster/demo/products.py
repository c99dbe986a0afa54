"""Main products and business scope of demo firms: the cluster members a spec lists (clusters.yaml
`products`) and a few firms elsewhere (`partner_products`), so that chain coverage has links present,
weak and missing, and the gaps have real demo firms as partners. A separate random stream, so the rest
of the demo registry is unchanged."""

from __future__ import annotations

import numpy as np
import polars as pl

SEED = 1650


def add_products(enterprise: pl.DataFrame, members: pl.DataFrame, spec: dict) -> pl.DataFrame:
    """`enterprise` with main_products and business_scope columns (null where the spec says nothing).

    members: cluster_code, uscc. Loops run over the spec's entries, never over firms.
    """
    rng = np.random.default_rng(SEED)
    rows: list[pl.DataFrame] = []
    for cs in spec["clusters"]:
        phrases = cs.get("products") or {}
        if not phrases:
            continue
        mine = members.filter(pl.col("cluster_code") == cs["code"])["uscc"].sort().to_numpy()
        order = rng.permutation(mine)
        counts = np.array(list(phrases.values()))
        take = order[: counts.sum()]
        rows.append(pl.DataFrame({"uscc": take, "main_products": np.repeat(list(phrases), counts),
                                  "business_scope": None}, schema=_SCHEMA))
    used = members["uscc"]
    manufacturing = pl.col("industry_code").str.slice(0, 2).cast(pl.Int32, strict=False).is_between(13, 43)
    pool = enterprise.filter(~pl.col("uscc").is_in(used.implode()) & manufacturing).select(
        "uscc", "county_code").sort("uscc")
    for entry in spec.get("partner_products", []):
        free = pool.filter(pl.col("county_code") == entry["county"])
        if rows:
            free = free.join(pl.concat(rows).select("uscc"), on="uscc", how="anti")
        take = free["uscc"].head(entry["count"]).to_numpy()
        rows.append(pl.DataFrame({"uscc": take, "main_products": entry.get("products"),
                                  "business_scope": entry.get("scope")}, schema=_SCHEMA))
    if not rows:
        return enterprise.with_columns(pl.lit(None, pl.Utf8).alias("main_products"),
                                       pl.lit(None, pl.Utf8).alias("business_scope"))
    return enterprise.join(pl.concat(rows), on="uscc", how="left", maintain_order="left")


_SCHEMA = {"uscc": pl.Utf8, "main_products": pl.Utf8, "business_scope": pl.Utf8}
