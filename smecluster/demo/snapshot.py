"""A registry snapshot straight from generated demo frames (no database), for benchmarks."""

from __future__ import annotations

import polars as pl

from smecluster.analytics.snapshot import Snapshot, normalise
from smecluster.demo.generator import DemoData
from smecluster.registry.industries import shipped_industries
from smecluster.registry.regions import region_rows

# A cluster application lists tens to hundreds of firms (Tongshan, the largest in the article, 500+).
EXTRA_CLUSTER_MEMBERS = 600


def snapshot_from_demo(data: DemoData, extra_clusters: int = 0) -> Snapshot:
    """The demo registry as a Snapshot; optionally `extra_clusters` more clusters drawn from it.

    Extra clusters are the largest (county, industry class) groups of background firms, up to
    EXTRA_CLUSTER_MEMBERS members each, as a province with a big registry has many applications.
    """
    clusters = data.cluster.with_row_index("id", offset=1).with_columns(pl.col("id").cast(pl.Int64))
    ids = dict(zip(clusters["code"], clusters["id"], strict=True))
    members = data.cluster_member.with_columns(
        pl.col("cluster_code").replace_strict(ids, return_dtype=pl.Int64).alias("cluster_id")
    ).select("cluster_id", "uscc")
    platform = data.platform.with_columns(
        pl.col("cluster_code").replace_strict(ids, default=None, return_dtype=pl.Int64).alias("cluster_id")
    ).drop("cluster_code").with_row_index("id", offset=1)
    if extra_clusters:
        clusters, members = _add_clusters(data, clusters, members, extra_clusters)
    frames = {
        "region": pl.DataFrame(region_rows("32")).select("code", "name", "level", "parent_code", "area_km2"),
        "industry": pl.DataFrame(shipped_industries()),
        "enterprise": data.enterprise.select("uscc", "name", "county_code", "industry_code", "lon", "lat"),
        "enterprise_year": data.enterprise_year,
        "designation": data.designation,
        "platform": platform,
        "cluster": clusters,
        "cluster_member": members,
    }
    return Snapshot(normalise(frames))


def _add_clusters(data: DemoData, clusters: pl.DataFrame, members: pl.DataFrame, k: int):
    taken = members["uscc"]
    background = data.enterprise.filter(~pl.col("uscc").is_in(taken.implode()))
    groups = (
        background.group_by("county_code", "industry_code")
        .agg(pl.col("uscc").sort().head(EXTRA_CLUSTER_MEMBERS), pl.len().alias("n"))
        .sort(["n", "county_code", "industry_code"], descending=[True, False, False]).head(k)
        .with_row_index("id", offset=clusters.height + 1).with_columns(pl.col("id").cast(pl.Int64))
    )
    extra = groups.select(
        "id",
        ("bench-" + pl.col("id").cast(pl.Utf8)).alias("code"),
        (pl.col("county_code") + "-" + pl.col("industry_code") + "集群").alias("name"),
        "county_code",
        pl.format('["{}"]', pl.col("industry_code")).alias("leading_industries"),
        pl.lit(None, pl.Utf8).alias("boundary_geojson"),
        pl.lit("{}").alias("declared"),
        pl.lit("submitted").alias("status"),
        pl.lit(data.year, pl.Int32).alias("year"),
    )
    extra_members = groups.select(pl.col("id").alias("cluster_id"), "uscc").explode("uscc")
    return pl.concat([clusters, extra], how="vertical_relaxed"), pl.concat([members, extra_members])
