"""Partners for a cluster's weak and missing links: firms of that link outside the cluster, nearest first.

Candidates are the firms assigned to the link (chains.assign) that are not members of the cluster.
Order: same city first, then the rest of the province (firms outside the province come last), each by
great-circle distance from the cluster's centre (the members' mean position, else the county's centre);
a firm without coordinates is placed at its county's centre. Each row names the firm's county and says
whether it borders the cluster's county.
"""

from __future__ import annotations

import polars as pl

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
ORDER = ["cluster_id", "chain_id", "link_id", "same_city", "same_province", "distance_km", "uscc"]
DESCENDING = [False, False, False, True, True, False, False]


def haversine_km(lon1: pl.Expr, lat1: pl.Expr, lon2: pl.Expr, lat2: pl.Expr) -> pl.Expr:
    """Great-circle distance in km between two positions given in degrees, as a column expression."""
    p1, p2 = lat1.radians(), lat2.radians()
    dphi, dlmb = p2 - p1, (lon2 - lon1).radians()
    a = (dphi / 2).sin().pow(2) + p1.cos() * p2.cos() * (dlmb / 2).sin().pow(2)
    return 2 * EARTH_RADIUS_KM * a.sqrt().arcsin()


def _near_counties(gaps, link_firms, members, county, home, per_link: int):
    """The counties whose firms can be among a gap's `per_link` nearest candidates, so that distances are
    computed for those firms only (millions of firms times hundreds of gaps would not fit in memory).

    Counties in the gap's order (same city, same province, centre distance d) are taken until they hold
    `per_link` candidates (members excluded): `first` (cluster_id, chain_id, link_id, county_code). With r
    the farthest firm of a county from its centre, no firm of a county lies nearer than d - r (the
    triangle inequality): `maybe` lists the other counties of the last tier with that bound (`closest`);
    `partners` adds those whose bound is within the k-th candidate's distance, so nothing nearer is lost.
    """
    counts = link_firms.group_by("chain_id", "link_id", "county_code").agg(
        pl.len().alias("n"), pl.col("r").max().alias("r"))
    own = (members.join(link_firms.select("uscc", "chain_id", "link_id", "county_code"), on="uscc")
           .group_by("cluster_id", "chain_id", "link_id", "county_code").agg(pl.len().alias("own")))
    gap = ["cluster_id", "chain_id", "link_id"]
    tiers = (
        gaps.select(*gap)
        .join(counts, on=["chain_id", "link_id"])
        .join(own, on=[*gap, "county_code"], how="left")
        .with_columns((pl.col("n") - pl.col("own").fill_null(0)).alias("n"))
        .filter(pl.col("n") > 0)
        .join(county.select("county_code", "city_code", "province_code", "county_lon", "county_lat"),
              on="county_code", how="left")
        .join(home, on="cluster_id")
        .with_columns(
            haversine_km(pl.col("home_lon"), pl.col("home_lat"), pl.col("county_lon"), pl.col("county_lat"))
            .fill_null(float("inf")).alias("d"),
            ((pl.col("city_code") == pl.col("home_city")).fill_null(False).cast(pl.Int8) * 2
             + (pl.col("province_code") == pl.col("home_province")).fill_null(False).cast(pl.Int8)).alias("tier"),
        )
        .sort([*gap, "tier", "d"], descending=[False, False, False, True, False])
        .with_columns((pl.col("n").cum_sum().over(gap) - pl.col("n")).alias("before"))
    )
    needed = tiers.filter(pl.col("before") < per_link)
    last = needed.group_by(gap).agg(pl.col("tier").last().alias("last_tier"))
    marked = tiers.join(last, on=gap).with_columns((pl.col("before") < per_link).alias("needed"),
                                                   (pl.col("d") - pl.col("r").fill_null(0.0)).alias("closest"))
    first = marked.filter("needed").select(*gap, "county_code")
    # Not needed, same tier as the last needed county: may hold firms nearer than the k-th candidate.
    maybe = marked.filter(~pl.col("needed") & (pl.col("tier") == pl.col("last_tier"))).select(
        *gap, "county_code", "closest")
    return first, maybe


def partners(
    gaps: pl.DataFrame,
    assigned: pl.DataFrame,
    firms: pl.DataFrame,
    members: pl.DataFrame,
    centres: pl.DataFrame,
    regions: pl.DataFrame,
    neighbours: pl.DataFrame,
    facts: pl.DataFrame,
    per_link: int = 10,
) -> pl.DataFrame:
    """Up to `per_link` candidate firms per (cluster, weak or missing link), nearest first.

    gaps: cluster_id, chain_id, link_id, status. assigned: uscc, chain_id, link_id, via, evidence.
    firms: uscc, name, county_code, lon, lat. members: cluster_id, uscc. centres: cluster_id, county_code,
    lon, lat. regions: code, name, city_code, province_code, lon, lat (county rows).
    neighbours: county_code, neighbour_code. facts: uscc, output, tier, size.
    """
    county = regions.select(
        pl.col("code").alias("county_code"), pl.col("name").alias("county_name"), "city_code", "province_code",
        pl.col("lon").alias("county_lon"), pl.col("lat").alias("county_lat"),
    )
    placed = (
        firms.lazy()
        .join(county.lazy(), on="county_code", how="left")
        .with_columns(pl.coalesce("lon", "county_lon").alias("lon"), pl.coalesce("lat", "county_lat").alias("lat"))
        .select("uscc", "name", "county_code", "county_name", "city_code", "province_code", "lon", "lat")
    )
    home = centres.lazy().join(
        county.lazy().select(
            "county_code", pl.col("city_code").alias("home_city"), pl.col("province_code").alias("home_province"),
            "county_lon", "county_lat"),
        on="county_code", how="left",
    ).select(
        "cluster_id", pl.col("county_code").alias("home_county"), "home_city", "home_province",
        pl.coalesce("lon", "county_lon").alias("home_lon"), pl.coalesce("lat", "county_lat").alias("home_lat"),
    )
    # r: each firm's distance from its county's centre (a county's largest r bounds where its firms lie)
    link_firms = assigned.lazy().join(
        placed.select("uscc", "county_code", "lon", "lat").join(
            county.lazy().select("county_code", "county_lon", "county_lat"), on="county_code", how="left")
        .select("uscc", "county_code",
                haversine_km(pl.col("county_lon"), pl.col("county_lat"), pl.col("lon"), pl.col("lat")).alias("r")),
        on="uscc")
    link_firms = link_firms.collect().lazy()  # read by both steps below: computed once
    first, maybe = _near_counties(gaps.lazy(), link_firms, members.lazy(), county.lazy(), home, per_link)
    # The ranking carries only keys, positions and flags (narrow rows: millions of them at province
    # scale); names, evidence and figures are joined to the few rows kept.
    gap = ["cluster_id", "chain_id", "link_id"]
    position = placed.select("uscc", "lon", "lat", "city_code", "province_code").collect().lazy()

    def candidates(counties):
        return (
            counties.select(*gap, "county_code")
            .join(link_firms.select("uscc", "chain_id", "link_id", "county_code"),
                  on=["chain_id", "link_id", "county_code"])
            .join(members.lazy(), on=["cluster_id", "uscc"], how="anti")
            .join(position, on="uscc")
            .join(home, on="cluster_id")
            .select(
                *gap, "uscc", "county_code", "home_county",
                haversine_km(pl.col("home_lon"), pl.col("home_lat"), pl.col("lon"), pl.col("lat"))
                .alias("distance_km"),
                (pl.col("city_code") == pl.col("home_city")).fill_null(False).alias("same_city"),
                (pl.col("province_code") == pl.col("home_province")).fill_null(False).alias("same_province"),
            )
        )

    def top(frame):
        return (frame.sort(ORDER, descending=DESCENDING, nulls_last=True)
                .group_by(gap, maintain_order=True).head(per_link))

    kept = top(candidates(first)).collect()
    kth = kept.group_by(gap).agg(pl.col("distance_km").max().alias("kth"))
    more = maybe.join(kth.lazy(), on=gap).filter(pl.col("closest") <= pl.col("kth"))
    ranked = (
        pl.concat([kept.lazy(), candidates(more)])
        .sort(ORDER, descending=DESCENDING, nulls_last=True)
        .group_by(gap, maintain_order=True)
        .head(per_link)
        .join(gaps.lazy().select(*gap, "status"), on=gap)
        .join(assigned.lazy().select("uscc", "chain_id", "link_id", "via", "evidence"),
              on=["uscc", "chain_id", "link_id"])
        .join(placed.select("uscc", "name", "county_name", "lon", "lat"), on="uscc")
        .join(neighbours.lazy().rename({"county_code": "home_county", "neighbour_code": "county_code"})
              .with_columns(pl.lit(True).alias("neighbour")), on=["home_county", "county_code"], how="left")
        .join(facts.lazy().select("uscc", "output", "tier", "size"), on="uscc", how="left")
        .with_columns(pl.col("neighbour").fill_null(False))
        .select("cluster_id", "chain_id", "link_id", "status", "uscc", "name", "county_code", "county_name",
                "same_city", "same_province", "neighbour", "distance_km", "tier", "size", "output", "via",
                "evidence", "lon", "lat")
        .sort(ORDER, descending=DESCENDING, nulls_last=True)  # joins do not keep the order
        .with_columns(pl.col("distance_km").round(1))  # after the sort: rounding must not reorder ties
    )
    return ranked.collect()
