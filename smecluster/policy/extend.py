"""Packs written as changes against a base pack (as OpenFisca writes reforms against a baseline).

A pack with `extends: BASE` takes BASE's raw mapping and: replaces top-level criteria named in
`replace`, removes those in `drop`, appends `criteria`, and with `inherited_unverified: true` marks
every criterion carried over unchanged as verified: false (note `inherited_note`). Other keys override.
"""

from __future__ import annotations

from pathlib import Path

from smecluster import yamlio


class ExtendError(ValueError):
    """A pack's extends / replace / drop cannot be applied."""


def _mark_unverified(criterion: dict, note: str) -> dict:
    out = dict(criterion, verified=False)
    out["note"] = f"{out['note']} {note}" if out.get("note") else note
    for key in ("any", "all", "of", "best_of"):
        if out.get(key):
            out[key] = [_mark_unverified(c, note) for c in out[key]]
    return out


def extend(raw: dict, directory: Path) -> dict:
    """A pack written as changes against a base pack (OpenFisca-style reform).

    Keys: extends (base pack id), replace (criteria replacing base criteria of the same top-level id),
    drop (top-level ids removed), criteria (added), inherited_unverified (true: every criterion taken
    unchanged from the base loads as verified: false, with inherited_note appended to its note).
    Any other key overrides the base's.
    """
    base_path = directory / f"{raw['extends']}.yaml"
    if not base_path.exists():
        raise ExtendError(f"extends unknown pack {raw['extends']!r}")
    base = yamlio.safe_load(base_path.read_text(encoding="utf-8"))
    if base.get("extends"):
        base = extend(base, directory)
    raw = dict(raw)
    replace = {c["id"]: c for c in raw.pop("replace", []) or []}
    drop = set(raw.pop("drop", []) or [])
    added = raw.pop("criteria", []) or []
    unverified = raw.pop("inherited_unverified", False)
    note = raw.pop("inherited_note", f"carried over from {raw['extends']}")
    known = {c["id"] for c in base.get("criteria", [])}
    for cid in (set(replace) | drop) - known:
        raise ExtendError(f"replace/drop names {cid!r}, not a criterion of {raw['extends']}")
    criteria = []
    for c in base.get("criteria", []):
        if c["id"] in drop:
            continue
        if c["id"] in replace:
            criteria.append(replace[c["id"]])
        else:
            criteria.append(_mark_unverified(c, note) if unverified else c)
    merged = {k: v for k, v in base.items() if k not in ("criteria", "superseded_by", "effective_to")}
    merged.update(raw)
    merged["criteria"] = criteria + added
    return merged
