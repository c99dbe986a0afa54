"""Partners for a cluster's weak and missing links: firms of that link outside the cluster, nearest first.

Candidates are the firms assigned to the link (chains.assign) that are not members of the cluster.
Order: same city first, then the rest of the province (firms outside the province come last), each by
great-circle distance from the cluster's centre (the members' mean position, else the county's centre);
a firm without coordinates is placed at its county's centre. Each row names the firm's county and says
whether it borders the cluster's county.

Per gap the candidates are the link's firms as NumPy arrays sorted by city: when the cluster's own city
holds enough of them (members excluded), only that city's slice is measured; else the whole link (the
province, then the rest). Ties in distance (firms placed at a county's centre) go by credit code. Names,
figures and evidence are looked up for the few firms kept.
"""

from __future__ import annotations

import numpy as np
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


def _codes(values: pl.Series, known: pl.Series) -> np.ndarray:
    """Each value's position in `known` (distinct texts); -1 for a null or unknown one (hash lookups)."""
    if not known.len():
        return np.full(values.len(), -1, dtype=np.int64)
    return (values.cast(pl.Utf8).replace_strict(known, pl.int_range(known.len(), eager=True), default=-1,
                                                return_dtype=pl.Int64).fill_null(-1).to_numpy())


def _nearest(cand: dict, lo: int, hi: int, home: dict, exclude: np.ndarray, per_link: int) -> np.ndarray:
    """Positions (into `cand`'s arrays) of the `per_link` first candidates of one gap among cand[lo:hi]
    (sorted by city), `exclude` (positions of the cluster's members) left out, in the partners' order:
    same city, same province, distance (missing last), credit code. Candidates are ranked by the
    haversine's a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2), which grows with the distance."""
    city, prov, mask = cand["city"], cand["province"], cand["mask"]
    mask[exclude] = True
    take = None
    if home["city"] >= 0:
        a = lo + int(np.searchsorted(city[lo:hi], home["city"], "left"))
        b = lo + int(np.searchsorted(city[lo:hi], home["city"], "right"))
        own = np.arange(a, b)
        own = own[~mask[own]]
        if own.size >= per_link:  # the home city alone fills the list: measure only its firms
            take = own
    if take is None:
        take = np.arange(lo, hi)
        take = take[~mask[take]]
    mask[exclude] = False
    if not take.size:
        return take
    dist = (np.sin((cand["lat_r"][take] - home["lat_r"]) / 2) ** 2
            + home["cos_lat"] * cand["cos_lat"][take] * np.sin((cand["lon_r"][take] - home["lon_r"]) / 2) ** 2)
    dist = np.where(np.isnan(dist), np.inf, dist)
    level = (-2 * ((city[take] == home["city"]) & (home["city"] >= 0))
             - ((prov[take] == home["province"]) & (home["province"] >= 0))).astype(np.int8)
    if take.size > per_link:
        # everything up to the k-th and tied with it is kept (the city alone: one level, a partition suffices)
        if level[0] == level.min() == level.max():
            keep = dist <= np.partition(dist, per_link - 1)[per_link - 1]
        else:
            kth = np.lexsort((dist, level))[per_link - 1]
            keep = (level < level[kth]) | ((level == level[kth]) & (dist <= dist[kth]))
        take, dist, level = take[keep], dist[keep], level[keep]
    order = np.lexsort((dist, level))
    take, dist, level = take[order], dist[order], level[order]
    if take.size > 1 and ((dist[1:] == dist[:-1]) & (level[1:] == level[:-1])).any():
        # ties (firms placed at one county centre): by credit code
        codes = cand["uscc"].gather(cand["row"][take]).to_list()
        take = take[np.asarray(sorted(range(take.size), key=lambda i: (level[i], dist[i], codes[i])), dtype=np.int64)]
    return take[:per_link]


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

    gaps: cluster_id, chain_id, link_id, status. assigned: uscc, chain_id, link_id, via, evidence, and
    optionally row (the firm's position in `firms`: then no join on credit codes is needed).
    firms: uscc, name, county_code, lon, lat. members: cluster_id, uscc. centres: cluster_id, county_code,
    lon, lat. regions: code, name, city_code, province_code, lon, lat (county rows).
    neighbours: county_code, neighbour_code. facts: uscc, output, tier, size.
    """
    county = regions.select(
        pl.col("code").alias("county_code"), pl.col("name").alias("county_name"), "city_code", "province_code",
        pl.col("lon").cast(pl.Float64).alias("county_lon"), pl.col("lat").cast(pl.Float64).alias("county_lat"),
    )
    cities = county["city_code"].drop_nulls().unique().sort()
    provinces = county["province_code"].drop_nulls().unique().sort()
    county_city = np.append(_codes(county["city_code"], cities), -1)  # index -1: no county
    county_province = np.append(_codes(county["province_code"], provinces), -1)
    # every firm placed (without coordinates: at its county's centre) and its city and province, by row
    firm_county = _codes(firms["county_code"], county["county_code"])
    centre_lon = np.append(county["county_lon"].fill_null(np.nan).to_numpy(), np.nan)
    centre_lat = np.append(county["county_lat"].fill_null(np.nan).to_numpy(), np.nan)
    lon = firms["lon"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lat = firms["lat"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lon = np.where(np.isnan(lon), centre_lon[firm_county], lon)
    lat = np.where(np.isnan(lat), centre_lat[firm_county], lat)
    firm_city, firm_province = county_city[firm_county], county_province[firm_county]

    links = gaps.select("chain_id", "link_id").unique().sort("chain_id", "link_id").with_row_index("gk")
    rows = assigned if "row" in assigned.columns else assigned.join(
        firms.select("uscc").with_row_index("row"), on="uscc", how="left", maintain_order="left")
    # the candidates: (position in `assigned`, firm row, gap link) sorted by link and city, so that a
    # gap's home city is one slice. Rows of one link come in runs (assignments are in link order): the
    # link of each run is looked up once, and one stable sort of a small integer key orders them.
    runs = rows.select(pl.struct("chain_id", "link_id").rle_id().alias("run"), "chain_id", "link_id", "row")
    run_link = (runs.select("run", "chain_id", "link_id").unique("run").join(links, on=["chain_id", "link_id"],
                                                                               how="left").sort("run"))
    gk_of_run = run_link["gk"].fill_null(links.height).cast(pl.Int64).to_numpy()
    gk = gk_of_run[runs["run"].to_numpy()]
    firm_row = runs["row"].fill_null(-1).cast(pl.Int64).to_numpy()
    city = np.where(firm_row >= 0, firm_city[firm_row], -1)
    key = gk * (len(cities) + 1) + city + 1
    key[(gk == links.height) | (firm_row < 0)] = -1  # not a gap's link, or a firm not in `firms`
    apos = np.flatnonzero(key >= 0)
    small = np.int16 if key.max(initial=0) < np.iinfo(np.int16).max else np.int64
    apos = apos[np.argsort(key[apos].astype(small), kind="stable")]  # 16-bit keys: a radix sort
    row = firm_row[apos]
    cand_gk = gk[apos]
    lat_r = np.radians(lat[row])
    arrays = {"uscc": firms["uscc"], "row": row, "city": firm_city[row], "province": firm_province[row],
              "lon_r": np.radians(lon[row]), "lat_r": lat_r, "cos_lat": np.cos(lat_r)}
    bounds = np.searchsorted(cand_gk, np.arange(links.height + 1))
    home = centres.join(county.select("county_code", "city_code", "province_code", "county_lon", "county_lat"),
                        on="county_code", how="left").select(
        "cluster_id", pl.col("county_code").alias("home_county"), "city_code", "province_code",
        pl.coalesce(pl.col("lon").cast(pl.Float64), "county_lon").alias("lon"),
        pl.coalesce(pl.col("lat").cast(pl.Float64), "county_lat").alias("lat"))
    home = home.with_columns(pl.Series("city", _codes(home["city_code"], cities)),
                             pl.Series("province", _codes(home["province_code"], provinces)))
    homes = {r["cluster_id"]: r for r in home.iter_rows(named=True)}  # one row per cluster (a few hundred)
    # a cluster's members among its gaps' candidates (positions), excluded from its lists
    todo = gaps.select("cluster_id", "chain_id", "link_id").join(links, on=["chain_id", "link_id"])
    member_rows = members.select("cluster_id", "uscc").join(
        firms.select("uscc").with_row_index("row").filter(pl.col("uscc").is_in(members["uscc"].implode())),
        on="uscc")
    own = (member_rows.lazy().select("cluster_id", pl.col("row").cast(pl.Int64))
           .join(pl.DataFrame({"row": row, "gk": cand_gk, "pos": np.arange(row.size)}).lazy(), on="row")
           .join(todo.lazy().select("cluster_id", pl.col("gk").cast(pl.Int64)), on=["cluster_id", "gk"], how="semi")
           .group_by("cluster_id", "gk").agg(pl.col("pos")).collect())
    excluded = {(c, g): np.asarray(p, dtype=np.int64) for c, g, p in own.iter_rows()}
    arrays["mask"] = np.zeros(row.size, dtype=bool)
    none = np.zeros(0, dtype=np.int64)
    picked, owner = [], []
    for cid, gk in todo.select("cluster_id", "gk").iter_rows():  # one step per gap (a few thousand), not per firm
        h = homes.get(cid)
        if h is None:
            continue
        h_lat = np.radians(np.nan if h["lat"] is None else h["lat"])
        spot = {"city": h["city"], "province": h["province"], "lat_r": h_lat, "cos_lat": np.cos(h_lat),
                "lon_r": np.radians(np.nan if h["lon"] is None else h["lon"])}
        found = _nearest(arrays, int(bounds[gk]), int(bounds[gk + 1]), spot, excluded.get((cid, gk), none),
                         per_link)
        picked.append(found)
        owner.append(np.full(found.size, cid, dtype=np.int64))
    pos = np.concatenate(picked) if picked else none
    kept_rows = row[pos]
    kept = pl.DataFrame({
        "cluster_id": pl.Series(np.concatenate(owner) if owner else none).cast(gaps.schema["cluster_id"]),
        "gk": pl.Series(cand_gk[pos], dtype=pl.UInt32), "apos": pl.Series(apos[pos], dtype=pl.UInt32),
        "uscc": firms["uscc"].gather(kept_rows), "name": firms["name"].gather(kept_rows),
        "county_code": firms["county_code"].gather(kept_rows),
        "city": firm_city[kept_rows], "province": firm_province[kept_rows],
        "lon": lon[kept_rows], "lat": lat[kept_rows],
    }).with_columns(pl.col("lon").fill_nan(None), pl.col("lat").fill_nan(None))
    return _describe(kept, links, gaps, home, assigned, county, neighbours, facts)


def _describe(kept, links, gaps, home, assigned, county, neighbours, facts) -> pl.DataFrame:
    """The kept candidates with their gap, names, figures, evidence and flags (lookups for these firms only)."""
    gap = ["cluster_id", "chain_id", "link_id"]
    why = assigned.select("via", "evidence")[kept["apos"]] if kept.height else \
        pl.DataFrame(schema={"via": pl.Utf8, "evidence": pl.Utf8})
    figures = facts.filter(pl.col("uscc").is_in(kept["uscc"].unique().implode())).select(
        "uscc", "output", "tier", "size")
    out = (
        kept.with_columns(why).lazy()
        .join(links.lazy(), on="gk")
        .join(home.lazy().select("cluster_id", "home_county", pl.col("city").alias("home_city"),
                                 pl.col("province").alias("home_province"), pl.col("lon").alias("home_lon"),
                                 pl.col("lat").alias("home_lat")), on="cluster_id")
        .join(gaps.lazy().select(*gap, "status"), on=gap)
        .join(county.lazy().select("county_code", "county_name"), on="county_code", how="left")
        .join(neighbours.lazy().rename({"county_code": "home_county", "neighbour_code": "county_code"})
              .with_columns(pl.lit(True).alias("neighbour")), on=["home_county", "county_code"], how="left")
        .join(figures.lazy(), on="uscc", how="left")
        .with_columns(
            haversine_km(pl.col("home_lon"), pl.col("home_lat"), pl.col("lon"), pl.col("lat")).alias("distance_km"),
            ((pl.col("city") == pl.col("home_city")) & (pl.col("city") >= 0)).alias("same_city"),
            ((pl.col("province") == pl.col("home_province")) & (pl.col("province") >= 0)).alias("same_province"),
            pl.col("neighbour").fill_null(False),
        )
        .select("cluster_id", "chain_id", "link_id", "status", "uscc", "name", "county_code", "county_name",
                "same_city", "same_province", "neighbour", "distance_km", "tier", "size", "output", "via",
                "evidence", "lon", "lat")
        .sort(ORDER, descending=DESCENDING, nulls_last=True)  # joins do not keep the order
        .with_columns(pl.col("distance_km").round(1))  # after the sort: rounding must not reorder ties
    )
    return out.collect()
