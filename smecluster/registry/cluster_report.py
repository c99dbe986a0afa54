"""Yearly reports of recognised clusters (年度报告): which data year, filed on which day.

A recognised cluster reports the previous year's figures by 30 April (jiangsu-workflow-2023,
`yearly_report_due`). The re-review watch reads these rows, and the workflow's `yearly_report`
action counts as a filing too (decision 1326).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base


class ClusterReport(Base):
    """One yearly report of a cluster: the data year it covers and the day it was filed."""

    __tablename__ = "cluster_report"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)  # the data year reported on
    filed_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(64))  # document or receipt number
