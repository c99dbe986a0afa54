"""Enterprise size class (large / medium / small / micro) from a size-class pack, as one SQL CASE.

Each sector of the pack gives code prefixes (a section letter, or 2-3 digit division/group codes)
and the minimum figures of each class; all of them must be met. A firm missing a figure the sector
needs gets NULL (unknown), never a guess.
"""

from __future__ import annotations

from smecluster.policy.pack import Pack

CLASSES = ("large", "medium", "small")


def _match(prefix: str, code_col: str, section_col: str) -> str:
    if prefix == "*":
        return "TRUE"
    if prefix.isalpha():
        return f"{section_col} = '{prefix}'"
    return f"LEFT({code_col}, {len(prefix)}) = '{prefix}'"


def size_class_sql(pack: Pack, code_col: str = "industry_code", section_col: str = "section") -> str:
    """SQL CASE giving 'large'|'medium'|'small'|'micro' (NULL when a needed figure is missing).

    Columns used: employees, revenue, total_assets (万元), plus the industry code and section.
    """
    branches = []
    for sector in pack.tables["sectors"]:
        match = " OR ".join(_match(p, code_col, section_col) for p in sector["codes"])
        metrics = sorted({m for cls in CLASSES for m in sector[cls]})
        missing = " OR ".join(f"{m} IS NULL" for m in metrics)
        tests = [f"WHEN {missing} THEN NULL"]
        for cls in CLASSES:
            cond = " AND ".join(f"{m} >= {v}" for m, v in sector[cls].items())
            tests.append(f"WHEN {cond} THEN '{cls}'")
        branches.append(f"WHEN {match} THEN (CASE {' '.join(tests)} ELSE 'micro' END)")
    return f"CASE {' '.join(branches)} END"
