"""The header of every shipped pack (id, kind, version, dates, title) without building the packs.

`smecluster policy list` only shows these fields; reading them from the YAML (libyaml) skips the
pydantic models and the criteria checks, which `policy validate` and every evaluation still run
(docs/decisions/1001-policy-list-headers.md).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from smecluster import yamlio

PACK_DIR = Path(__file__).with_name("packs")
# Keys a pack written with `extends` takes from its base when it does not set them itself; a base's
# end date and successor are not inherited (as in smecluster.policy.extend).
INHERITED = ("kind", "version", "title")
_BLOCK = re.compile(r"^[A-Za-z_]+:[ \t]*(#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class PackHeader:
    """What `policy list` prints of a pack."""

    id: str
    kind: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: str


def _header_text(text: str) -> str:
    """The lines before the first top-level key that opens a block (sources:, criteria:, ...)."""
    match = _BLOCK.search(text)
    return text[: match.start()] if match else text


def _raw(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    raw = yamlio.safe_load(_header_text(text))
    if not isinstance(raw, dict) or not {"id", "effective_from"} <= raw.keys():
        raw = yamlio.safe_load(text)  # header keys after a block: read the whole file
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a pack is a mapping with id, kind, criteria, ...")
    base_id = raw.get("extends")
    if base_id:
        base = _raw(path.parent / f"{base_id}.yaml")
        raw = {k: base.get(k) for k in INHERITED} | raw
    return raw


def pack_headers(directory: Path = PACK_DIR) -> list[PackHeader]:
    """The header of each pack file in `directory`, in file-name order."""
    out = []
    for path in sorted(directory.glob("*.yaml")):
        raw = _raw(path)
        out.append(
            PackHeader(
                id=str(raw["id"]),
                kind=str(raw["kind"]),
                version=str(raw["version"]),
                effective_from=raw["effective_from"],
                effective_to=raw.get("effective_to"),
                title=str(raw["title"]),
            )
        )
    return out
