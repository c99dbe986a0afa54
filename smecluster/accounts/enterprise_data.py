"""An enterprise user's own yearly figures: read and update, each change audited with old and new values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smecluster.messages import N_, UserError
from smecluster.registry.models import ClusterMember, Enterprise, EnterpriseYear
from smecluster.workflow import audit

EDITABLE = ("revenue", "output", "rd_spending", "employees", "rd_staff", "cloud")
WHOLE = ("employees", "rd_staff")


class FiguresError(UserError):
    """A figure that cannot be stored, naming the field."""


def update_own_figures(session: Session, who: Any, year: int, values: dict[str, str]) -> list[int]:
    """Store the enterprise's figures for `year` (blank leaves a figure as it is); returns its cluster ids."""
    if who.role != "enterprise_user" or not who.uscc:
        raise FiguresError(N_("only an enterprise account updates its own figures"))
    if session.get(Enterprise, who.uscc) is None:
        raise FiguresError(N_("your enterprise is not in the registry"))
    parsed: dict[str, Any] = {}
    for name in EDITABLE:
        raw = (values.get(name) or "").strip()
        if not raw:
            continue
        if name == "cloud":
            if raw not in ("yes", "no"):
                raise FiguresError(N_("cloud: answer yes or no"))
            parsed[name] = raw == "yes"
            continue
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            raise FiguresError(N_("%(name)s: %(raw)s is not a number"), name=name, raw=raw) from None
        if number < 0:
            raise FiguresError(N_("%(name)s: must not be negative"), name=name)
        if name in WHOLE and number != int(number):
            raise FiguresError(N_("%(name)s: a whole number of people"), name=name)
        parsed[name] = int(number) if name in WHOLE else number
    if not parsed:
        raise FiguresError(N_("no figure given"))
    row = session.get(EnterpriseYear, (who.uscc, year))
    if row is None:
        row = EnterpriseYear(uscc=who.uscc, year=year)
        session.add(row)
    old = {k: getattr(row, k) for k in parsed}
    for k, v in parsed.items():
        setattr(row, k, v)
    audit.record(
        session, who.username, "enterprise.figures", f"enterprise:{who.uscc}", {"year": year, "old": old, "new": parsed}
    )
    return list(session.scalars(select(ClusterMember.cluster_id).where(ClusterMember.uscc == who.uscc)))
