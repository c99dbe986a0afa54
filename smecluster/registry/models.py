"""Tables of the registry. Money is in CNY 10,000 (万元), as bureaus report it; areas in km2."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base

# Designation kinds an enterprise can hold (tiers, plus the certificates of policy/certificates.yaml).
DESIGNATION_KINDS = (
    "innovative_sme",
    "srdi_sme",
    "little_giant",
    "single_champion",
    "high_tech",
    "tech_sme",
    "green_factory",
    "iso14001",
    "two_integration",
)
PLATFORM_LEVELS = ("national", "provincial", "city")


class Region(Base):
    """A GB/T 2260 division: province, city (设区市) or county-level division (县级区划)."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))  # province | city | county
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    area_km2: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class Industry(Base):
    """A GB/T 4754-2017 code: section (门类, letter), division (2), group (3) or class (4 digits)."""

    __tablename__ = "industry"
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str | None] = mapped_column(String(4))
    section: Mapped[str] = mapped_column(String(1))


class Enterprise(Base):
    """An enterprise, keyed by its unified social credit code (uscc, GB 32100-2015)."""

    __tablename__ = "enterprise"
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    established: Mapped[date | None] = mapped_column(Date)
    fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    main_products: Mapped[str | None] = mapped_column(Text)  # 主营产品
    business_scope: Mapped[str | None] = mapped_column(Text)  # 经营范围


class EnterpriseYear(Base):
    """Yearly indicators of one enterprise (money in 万元)."""

    __tablename__ = "enterprise_year"
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprise.uscc"), primary_key=True)
    # indexed: the registry's newest year (every diagnosis asks it) is then one index probe, not a scan
    year: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    revenue: Mapped[float | None] = mapped_column(Float)
    output: Mapped[float | None] = mapped_column(Float)
    rd_spending: Mapped[float | None] = mapped_column(Float)
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_staff: Mapped[int | None] = mapped_column(Integer)
    total_assets: Mapped[float | None] = mapped_column(Float)
    total_liabilities: Mapped[float | None] = mapped_column(Float)
    cloud: Mapped[bool | None] = mapped_column(Boolean)  # 上云
    industrial_internet: Mapped[bool | None] = mapped_column(Boolean)  # 工业互联网平台应用
    # Priority indicators (jiangsu-priority-2023): 有效发明专利, 综合能源消费量 (t standard coal),
    # 出口交货值 (万元), 智能制造能力成熟度等级 (GB/T 39116-2020 level 1-5; 0 = not assessed).
    invention_patents: Mapped[int | None] = mapped_column(Integer)
    energy_use: Mapped[float | None] = mapped_column(Float)
    exports: Mapped[float | None] = mapped_column(Float)
    smart_mfg_level: Mapped[int | None] = mapped_column(Integer)
    # As the year's return gave them (NULL: not reported): the data-quality checks compare them with
    # the registry's record and across years (smecluster/quality), never overwrite the record.
    reported_name: Mapped[str | None] = mapped_column(String(200))
    reported_county: Mapped[str | None] = mapped_column(String(6))
    reported_industry: Mapped[str | None] = mapped_column(String(4))


class Designation(Base):
    """A tier or certificate held by an enterprise (e.g. little giant recognised in 2022)."""

    __tablename__ = "designation"
    __table_args__ = (UniqueConstraint("uscc", "kind", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprise.uscc"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    year: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    certificate: Mapped[str | None] = mapped_column(String(64))


class Platform(Base):
    """An innovation platform (创新平台): lab, engineering centre, enterprise technology centre..."""

    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(12))  # national | provincial | city
    type: Mapped[str] = mapped_column(String(64))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    host_uscc: Mapped[str | None] = mapped_column(ForeignKey("enterprise.uscc"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)


class Cluster(Base):
    """A characteristic industrial cluster (application or recognised)."""

    __tablename__ = "cluster"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    leading_industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    boundary_geojson: Mapped[str | None] = mapped_column(Text)
    declared: Mapped[dict] = mapped_column(JSON, default=dict)  # indicator -> declared figure
    status: Mapped[str] = mapped_column(String(24), default="draft")
    year: Mapped[int | None] = mapped_column(Integer)
    fictional: Mapped[bool] = mapped_column(Boolean, default=False)


class ClusterYear(Base):
    """Yearly facts of a cluster itself (not of its firms): its cooperation mechanisms (开放合作机制)."""

    __tablename__ = "cluster_year"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_org: Mapped[bool | None] = mapped_column(Boolean)  # 集群促进机构 in operation
    alliances: Mapped[int | None] = mapped_column(Integer)  # 产业联盟/协会 the cluster takes part in
    cooperation_agreements: Mapped[int | None] = mapped_column(Integer)  # 合作协议 in force


class ClusterMember(Base):
    """Membership of an enterprise in a cluster."""

    __tablename__ = "cluster_member"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), primary_key=True)
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprise.uscc"), primary_key=True)


Index("ix_cluster_member_uscc", ClusterMember.uscc)
