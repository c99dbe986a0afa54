"""A few doubtful figures planted in the demo, so that the data-quality checks have something to show.

All on members of one near miss (Kunshan, an application the province reviews), in figures no cluster
condition reads in the evaluation year, so that every demo verdict stays as it was:
a year's return under another name, a county change in the return only, liabilities above total assets
(R&D staff above employees would be refused by the import's own row rule, so an export of the demo would
not import again),
output twenty times too high for one year (a slip of units), and two city-level platforms of one name (spaces aside).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from smecluster.demo.generator import DemoData

CLUSTER = "kunshan-pcb"
OTHER_COUNTY = "320585"  # 太仓市, beside Kunshan
REPORTED = {"reported_name": pl.Utf8, "reported_county": pl.Utf8, "reported_industry": pl.Utf8}


def plant_doubtful(data: DemoData) -> DemoData:
    """The demo data with the doubtful figures planted (see the module docstring); the same every run."""
    members = sorted(data.cluster_member.filter(pl.col("cluster_code") == CLUSTER)["uscc"].to_list())
    if len(members) < 5:
        return data
    renamed, moved, indebted, slipped, host = members[:5]
    y = data.year
    ent = data.enterprise.filter(pl.col("uscc").is_in([renamed, moved])).select("uscc", "name", "county_code")
    name = dict(ent.select("uscc", "name").iter_rows())[renamed]
    county = dict(ent.select("uscc", "county_code").iter_rows())[moved]
    years = data.enterprise_year.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in REPORTED.items() if c not in data.enterprise_year.columns])
    uscc, year = pl.col("uscc"), pl.col("year")
    years = years.with_columns(
        pl.when((uscc == renamed) & (year == y)).then(pl.lit(name.replace("有限公司", "科技有限公司")))
        .otherwise(pl.col("reported_name")).alias("reported_name"),
        pl.when((uscc == moved) & (year == y - 1)).then(pl.lit(county))
        .when((uscc == moved) & (year == y)).then(pl.lit(OTHER_COUNTY))
        .otherwise(pl.col("reported_county")).alias("reported_county"),
        pl.when((uscc == indebted) & (year == y - 1)).then(pl.col("total_assets") * 1.3)
        .otherwise(pl.col("total_liabilities")).alias("total_liabilities"),
        pl.when((uscc == slipped) & (year == y - 2)).then(pl.col("output") * 20)
        .otherwise(pl.col("output")).alias("output"),
    )
    base = "昆山市电子电路检测公共服务平台（示例）"
    twins = pl.DataFrame({
        "name": [base, base.replace("检测", "检测 ")], "level": ["city", "city"], "type": ["公共服务平台"] * 2,
        "county_code": ["320583"] * 2, "host_uscc": [host, host], "cluster_code": [None, None], "year": [y - 1] * 2,
    }, schema=data.platform.schema)
    data.enterprise_year = years
    data.platform = pl.concat([data.platform, twins])
    return data
