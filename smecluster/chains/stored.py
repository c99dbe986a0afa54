"""Chain questions on a province-sized registry: read from the columnar snapshot, with every firm's
links kept beside it (decision 2101).

The snapshot (analytics.stored_snapshot) is a version of the registry checked against the database
before use; the chain documents and link overrides are not in it, but writing them bumps the registry
version (registry.version.VERSIONED_TABLES), so a snapshot outlives neither. Kept beside it:

- `chains-links-<key>`: the link assignment of every firm (chains.assign.LinkKeys) as integers, firm
  row (the firm's position in the snapshot's enterprise file), link key and evidence key, in link
  order; `chains-links-<key>-evidence`: the evidence texts and their kinds. The key hashes the chain
  maps, the overrides and the code that assigns, so a new map or rule makes a new one;
- `chains-facts-<year>-<key>`: every firm's output, tier and size class in the year (the key hashes
  the SQL, which holds the size pack and the tier dates).

A question about one chain then reads its links' slice of the kept assignment (the links of a chain
are contiguous) and gathers the texts of that slice only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from smecluster.analytics.stored_snapshot import StoredSnapshot
from smecluster.chains.assign import LinkKeys, assign_keys, link_table
from smecluster.chains.catalogue import Catalogue

FIRM_COLUMNS = ("uscc", "name", "county_code", "lon", "lat")  # industry_code: only to assign (kept)
TEXT_COLUMNS = ("uscc", "industry_code", "main_products", "business_scope")
ASSIGN_CODE = Path(__file__).with_name("assign.py")


def read_parquet(snapshot: StoredSnapshot, table: str, columns: list[str] | tuple[str, ...]) -> pl.DataFrame:
    """Columns of a registry table from the snapshot."""
    return pl.read_parquet(snapshot.file(table), columns=list(columns))


def links_key(catalogue: Catalogue, overrides: pl.DataFrame) -> str:
    """A hash of what the link assignment depends on besides the firms: the maps (in catalogue order),
    the overrides and the assigning code."""
    digest = hashlib.sha256(ASSIGN_CODE.read_bytes())
    for m in catalogue.maps.values():
        digest.update(m.model_dump_json().encode())
    rows = overrides.select("uscc", "chain_id", "link_id").sort("uscc", "chain_id", "link_id")
    digest.update(json.dumps(rows.rows(), ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def kept_links(snapshot: StoredSnapshot, catalogue: Catalogue, overrides: pl.DataFrame) -> LinkKeys:
    """Every firm's links in every chain of the catalogue: kept beside the snapshot, computed the first
    time (reading the firms' industry, main products and business scope from the snapshot)."""
    name = f"chains-links-{links_key(catalogue, overrides)}"
    maps = list(catalogue.maps.values())
    links = link_table(maps)
    keys = _kept(snapshot, name)
    if keys is not None:
        found = _kept(snapshot, f"{name}-evidence")
        return LinkKeys(keys["row"], keys["lk"], keys["ev"], links, found["evidence"], found["via"])
    firms = read_parquet(snapshot, "enterprise", TEXT_COLUMNS)
    computed = assign_keys(firms, maps, overrides)
    del firms
    evidence = pl.DataFrame({"evidence": computed.evidence, "via": computed.via})
    snapshot.cached(f"{name}-evidence", evidence.to_arrow)  # first: the links file's presence means both
    snapshot.cached(name, lambda: pa.table({"row": computed.row.to_arrow(), "lk": computed.lk.to_arrow(),
                                            "ev": computed.ev.to_arrow()}), row_group_size=1 << 20,
                    compression="lz4")
    return computed


def _kept(snapshot: StoredSnapshot, name: str) -> pl.DataFrame | None:
    """A table kept beside the snapshot, read by Polars (PyArrow's reader imports pandas: ~1 s), or None."""
    path = snapshot.path / f"{name}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def chain_slice(keys: LinkKeys, chain_ids: list[str] | None) -> list[tuple[int, int]]:
    """(lo, hi) ranges of the assignment's rows holding the chains' links (a chain's links have
    consecutive keys and the rows are in link order), in the chains' catalogue order."""
    if chain_ids is None:
        return [(0, len(keys.row))]
    lk = keys.lk.to_numpy()
    wanted = keys.links.filter(pl.col("chain_id").is_in(chain_ids))
    out = []
    for ck in sorted(wanted["ck"].unique().to_list()):
        ks = keys.links.filter(pl.col("ck") == ck)["lk"]
        out.append((int(np.searchsorted(lk, ks.min(), "left")), int(np.searchsorted(lk, ks.max(), "right"))))
    return out


def assigned_frame(keys: LinkKeys, uscc: pl.Series, chain_ids: list[str] | None) -> pl.DataFrame:
    """The chains' rows of a kept assignment as `assign_links(..., rows=True)` gives them for those
    chains alone (decision 2100: a chain's links do not depend on the other chains asked)."""
    parts = [keys.frame(uscc, True, lo, hi) for lo, hi in chain_slice(keys, chain_ids)]
    if not parts:
        return keys.frame(uscc, True, 0, 0)
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def kept_facts(snapshot: StoredSnapshot, year: int | None, sql: str, uscc: pl.Series) -> pl.DataFrame:
    """uscc, output, tier, size and row of every firm in the year (`sql` over the snapshot's tables: the
    one the database path runs), in the order of `uscc` (the snapshot's enterprise file), kept beside
    the snapshot (without the credit codes: the firms' order is theirs; tier and size as categories)."""
    digest = hashlib.sha256(f"in firm order, no uscc\n{sql}".encode()).hexdigest()[:16]
    name = f"chains-facts-{year}-{digest}"

    def compute() -> pa.Table:
        from smecluster.services.chains import by_row

        con = snapshot.connect()
        try:
            facts = pl.from_arrow(con.sql(sql).to_arrow_table())
        finally:
            con.close()
        return by_row(uscc, facts).select("output", pl.col("tier", "size").cast(pl.Categorical)).to_arrow()

    kept = _kept(snapshot, name)
    if kept is None:
        kept = pl.from_arrow(snapshot.cached(name, compute, row_group_size=1 << 20, compression="lz4"))
    if kept.height != uscc.len():
        raise RuntimeError(f"kept facts of {kept.height} firms for a snapshot of {uscc.len()}")
    return kept.select(uscc.alias("uscc"), "output", pl.col("tier", "size").cast(pl.Utf8)).with_row_index("row")
