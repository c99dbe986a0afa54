"""Saved what-if scenarios: a name, a pack and its changes (the `--set` syntax), who saved it and when.

A scenario stores the question, never its answer: it is simulated again from the registry each time it
is opened, so it cannot go stale. Saving is audited by the caller in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smecluster.db import Base
from smecluster.messages import N_, UserError

NAME_MAX = 80
SETS_MAX = 40


class ScenarioError(UserError):
    """A scenario that cannot be saved (the reason says why, translatable by its template)."""


class SavedScenario(Base):
    """A named reform of one pack, saved from the what-if page or API."""

    __tablename__ = "scenario"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[list] = mapped_column(JSON)  # `--set` strings: ["J7.threshold=0.25", ...]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"id": self.id, "name": self.name, "pack": self.pack_id, "changes": list(self.changes),
                "created_at": self.created_at.isoformat()}


def save_scenario(session: Session, name: str, pack_id: str, changes: list[str], account_id: int | None,
                  now: datetime) -> SavedScenario:
    """Store a scenario after checking its reform applies (a bad reform is never saved)."""
    from smecluster.policy.reform import apply_reform, reform_from_sets

    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ScenarioError(N_("a scenario needs a name of 1 to %(n)s characters"), n=NAME_MAX)
    if not changes or len(changes) > SETS_MAX:
        raise ScenarioError(N_("a scenario needs 1 to %(n)s changes"), n=SETS_MAX)
    apply_reform(reform_from_sets(pack_id, changes, reform_id=name))  # ReformError when it is not a valid pack
    if session.scalars(select(SavedScenario.id).where(SavedScenario.name == name)).first() is not None:
        raise ScenarioError(N_("a scenario named %(name)s exists already"), name=repr(name))
    row = SavedScenario(name=name, pack_id=pack_id, changes=list(changes), created_by=account_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def list_scenarios(session: Session) -> list[SavedScenario]:
    """Every saved scenario, newest first."""
    return list(session.scalars(select(SavedScenario).order_by(SavedScenario.id.desc())))


def get_scenario(session: Session, scenario_id: int) -> SavedScenario | None:
    """One saved scenario by id."""
    return session.get(SavedScenario, scenario_id)
