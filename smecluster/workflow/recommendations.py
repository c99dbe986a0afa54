"""The province's recommendation to the national list (择优推荐申报国家级), a confirmed, audited stage.

The list itself is computed (smecluster.services.priority.recommend); what is stored is the
province administrator's confirmation of it: the year, the packs, the quota and the clusters with
their scores as they stood when confirmed. Confirming again replaces the stored list (both audited).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base
from smecluster.messages import N_, UserError

NOT_PROVINCE = N_("only the provincial department confirms the recommendation")
NOTHING = N_("no cluster meets the national conditions: nothing to confirm")
CHANGED = N_("the list changed since it was shown (the registry was updated): reload the page and confirm again")


class RecommendationError(UserError):
    """A confirmation refused, with the reason and the HTTP status the web answers with."""

    def __init__(self, template: str, status: int = 400, **params) -> None:
        super().__init__(template, **params)
        self.status = status


class NationalRecommendation(Base):
    """One year's confirmed recommendation list of a province (one per province and year: a ministry
    database holds every province's lists)."""

    __tablename__ = "national_recommendation"
    __table_args__ = (UniqueConstraint("province_code", "year", name="uq_national_recommendation_province_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    province_code: Mapped[str] = mapped_column(String(2))  # two-digit GB/T 2260 province code
    year: Mapped[int] = mapped_column(Integer)
    priority_pack: Mapped[str] = mapped_column(String(64))
    national_pack: Mapped[str] = mapped_column(String(64))
    quota: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))  # confirmed
    clusters: Mapped[list] = mapped_column(JSON)  # [{id, code, name, score, rank}] in order
    version: Mapped[int] = mapped_column(Integer, default=1)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime)
