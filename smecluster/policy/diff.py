"""The difference between two packs (or a pack and its reform): criteria added, removed and changed.

Criteria are matched by id, then a leaf renumbered between editions by its indicator (when exactly one
test on each side reads it). A criterion is changed when any of its tests differ (indicator, params,
comparator, threshold, boundary word, bands, role, soft, at_least, the ids of its sub-criteria, the
kinds of evaluation it is checked in); each row carries both clauses so a reader sees the texts.
Pack parameters and the pass rule are compared too.
"""

from __future__ import annotations

from typing import Any

from smecluster.policy.pack import Criterion, Pack

COMPARED = ("indicator", "params", "comparator", "threshold", "boundary_word", "bands", "role", "soft",
            "at_least", "evaluations", "assessed", "judgement", "max_points")


def _test(c: Criterion) -> str:
    """A criterion's test in one line."""
    if c.indicator and c.comparator:
        return f"{c.indicator} {c.comparator} {c.threshold}"
    if c.bands is not None:
        return f"{c.indicator} in {len(c.bands)} bands"
    if c.any is not None or c.all is not None or c.of:
        kids = ", ".join(k.id for k in c.children())
        how = "any of" if c.any is not None else "all of" if c.all is not None else f"at least {c.at_least} of"
        return f"{how} {kids}"
    if c.best_of is not None:
        return f"best of {', '.join(k.id for k in c.best_of)}"
    return "not assessed by rule"


def _value(c: Criterion, field: str) -> Any:
    value = getattr(c, field)
    if field == "bands" and value is not None:
        return [b.model_dump(exclude_none=True) for b in value]
    return value


def diff_packs(a: Pack, b: Pack) -> dict:
    """Criteria added, removed and changed from pack a to pack b, with both clauses, and the pack-level
    changes (parameters, pass rule)."""
    old = {c.id: c for c in a.all_criteria()}
    new = {c.id: c for c in b.all_criteria()}
    pairs = [(old[cid], new[cid]) for cid in old if cid in new] + _matched_by_indicator(old, new)
    paired_a, paired_b = {x.id for x, _ in pairs}, {y.id for _, y in pairs}
    rows: list[dict] = []
    for cid, c in old.items():
        if cid not in paired_a:
            rows.append({"id": cid, "change": "removed", "fields": [], "test_a": _test(c), "test_b": None,
                         "clause_a": c.clause, "clause_b": None})
    for cid, c in new.items():
        if cid not in paired_b:
            rows.append({"id": cid, "change": "added", "fields": [], "test_a": None, "test_b": _test(c),
                         "clause_a": None, "clause_b": c.clause})
    for before, c in pairs:
        fields = [f for f in COMPARED if _value(before, f) != _value(c, f)]
        if before.id == c.id and [k.id for k in before.children()] != [k.id for k in c.children()]:
            fields.append("children")
        if fields:
            cid = c.id if before.id == c.id else f"{before.id} → {c.id}"
            rows.append({"id": cid, "change": "changed", "fields": fields, "test_a": _test(before),
                         "test_b": _test(c), "clause_a": before.clause, "clause_b": c.clause,
                         "a": {f: _value(before, f) for f in fields if f != "children"},
                         "b": {f: _value(c, f) for f in fields if f != "children"}})
    params = [{"parameter": k, "a": a.parameters.get(k), "b": b.parameters.get(k)}
              for k in sorted(set(a.parameters) | set(b.parameters)) if a.parameters.get(k) != b.parameters.get(k)]
    rule_a = a.pass_rule.model_dump() if a.pass_rule else None
    rule_b = b.pass_rule.model_dump() if b.pass_rule else None
    return {
        "a": {"id": a.id, "version": a.version, "title": a.title, "effective_from": a.effective_from.isoformat()},
        "b": {"id": b.id, "version": b.version, "title": b.title, "effective_from": b.effective_from.isoformat()},
        "criteria": rows, "parameters": params,
        "pass_rule": None if rule_a == rule_b else {"a": rule_a, "b": rule_b},
        "counts": {k: sum(r["change"] == k for r in rows) for k in ("added", "removed", "changed")},
    }


def _matched_by_indicator(old: dict[str, Criterion], new: dict[str, Criterion]) -> list[tuple[Criterion, Criterion]]:
    """Leaf tests renumbered between editions (S-B1 in 2022, S6-2 in 2026) paired when exactly one
    unmatched test on each side reads the same indicator with the same parameters and role."""
    def key(c: Criterion):
        return (c.indicator, tuple(sorted(c.params.items())), c.bands is not None) if c.indicator else None

    gone = [c for cid, c in old.items() if cid not in new and key(c)]
    came = [c for cid, c in new.items() if cid not in old and key(c)]
    out = []
    for c in gone:
        same_a = [x for x in gone if key(x) == key(c)]
        same_b = [y for y in came if key(y) == key(c)]
        if len(same_a) == 1 and len(same_b) == 1:
            out.append((c, same_b[0]))
    return out


def changed_criteria(a: Pack, b: Pack) -> list[str]:
    """Ids of the criteria whose test differs between two packs (added and removed included)."""
    return [r["id"] for r in diff_packs(a, b)["criteria"]]
