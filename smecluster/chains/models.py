"""Tables of the chains package: imported chain documents and the link overrides of firms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base


class ChainDocument(Base):
    """A chain map or chain system a province imported (`smecluster chain import`); same id as a
    shipped one replaces it. The YAML text is kept as imported, checked again when read."""

    __tablename__ = "chain_document"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # chain_map | chain_system
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class ChainLinkOverride(Base):
    """A bureau's word on which link of a chain a firm works in; wins over class and keyword matches."""

    __tablename__ = "chain_link_override"
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprise.uscc"), primary_key=True)
    chain_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(64))
