"""Tier fields of an enterprise, one row per firm and year (money in 万元, shares as ratios 0-1).

What the tier criteria need beyond EnterpriseYear: main-business revenue, profit, IP by class,
niche-market years, digitalisation, quality, market position, equity financing, awards, R&D
institution and product fields. NULL means not reported, which makes a criterion unknown, never pass.
Ranks: 0 means none (no award, not in the global top list).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base

# Field name -> (label, unit) for templates, docs and the diagnosis (units: wan_yuan, ratio, count,
# years, code, rank, bool, points).
PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    "main_revenue": ("主营业务收入", "wan_yuan"),
    "net_profit": ("净利润", "wan_yuan"),
    "equity_raised": ("当年合格机构投资者新增股权融资（实缴）", "wan_yuan"),
    "niche_years": ("从事特定细分市场年限（年末）", "years"),
    "ip_class1_high_value": ("主导产品Ⅰ类高价值知识产权数", "count"),
    "ip_class1_own": ("主导产品自主研发Ⅰ类知识产权数", "count"),
    "ip_class1": ("主导产品Ⅰ类知识产权数（合计）", "count"),
    "ip_class2": ("主导产品Ⅱ类知识产权数", "count"),
    "ip_class1_applied": ("已实施并产生效益的Ⅰ类知识产权数", "count"),
    "digital_level": ("数字化水平等级（0-4）", "code"),
    "quality_award": ("省级以上质量奖", "bool"),
    "iso9001": ("质量管理体系认证（ISO 9001等）", "bool"),
    "own_brand": ("自主品牌", "bool"),
    "drafted_standard": ("参与制修订标准", "bool"),
    "core_business_is": ("核心业务采用信息系统支撑", "bool"),
    "certification": ("管理体系认证或发达国家和地区产品认证", "bool"),
    "market_share": ("细分市场全国占有率", "ratio"),
    "national_rank": ("主导产品全国细分市场占有率排名（0 = 非前列）", "rank"),
    "srdi_eval_score": ("专精特新发展评价得分", "points"),
    "global_rank": ("单项产品全球市场占有率排名（0 = 非前列）", "rank"),
    "national_award_rank": ("当年国家级科技奖励排名（0 = 无）", "rank"),
    "provincial_award_rank": ("当年省级科技奖励排名（0 = 无）", "rank"),
    "maker_china_rank": ("当年创客中国全国名次（0 = 无）", "rank"),
    "rd_institution_level": ("研发机构级别（4 国家 3 省 2 市 1 市以下 0 无）", "code"),
    "strategic_emerging": ("主导产品属于战略性新兴产业", "bool"),
    "product_field_level": ("主导产品领域（2 补短板填空白 1 六基/老字号/链主配套 0 其他）", "code"),
    "key_field_product": ("主导产品属于关键基础领域", "bool"),
    "tech_demo": ("技术创新示范或知识产权优势/示范企业", "bool"),
    "new_product": ("主导产品为新产品", "bool"),
}


class EnterpriseProfile(Base):
    """Tier fields of one enterprise in one year."""

    __tablename__ = "enterprise_profile"
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprise.uscc"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    main_revenue: Mapped[float | None] = mapped_column(Float)
    net_profit: Mapped[float | None] = mapped_column(Float)
    equity_raised: Mapped[float | None] = mapped_column(Float)
    niche_years: Mapped[float | None] = mapped_column(Float)
    ip_class1_high_value: Mapped[int | None] = mapped_column(Integer)
    ip_class1_own: Mapped[int | None] = mapped_column(Integer)
    ip_class1: Mapped[int | None] = mapped_column(Integer)
    ip_class2: Mapped[int | None] = mapped_column(Integer)
    ip_class1_applied: Mapped[int | None] = mapped_column(Integer)
    digital_level: Mapped[int | None] = mapped_column(SmallInteger)
    quality_award: Mapped[bool | None] = mapped_column(Boolean)
    iso9001: Mapped[bool | None] = mapped_column(Boolean)
    own_brand: Mapped[bool | None] = mapped_column(Boolean)
    drafted_standard: Mapped[bool | None] = mapped_column(Boolean)
    core_business_is: Mapped[bool | None] = mapped_column(Boolean)
    certification: Mapped[bool | None] = mapped_column(Boolean)
    market_share: Mapped[float | None] = mapped_column(Float)
    national_rank: Mapped[int | None] = mapped_column(Integer)
    srdi_eval_score: Mapped[float | None] = mapped_column(Float)
    global_rank: Mapped[int | None] = mapped_column(Integer)
    national_award_rank: Mapped[int | None] = mapped_column(Integer)
    provincial_award_rank: Mapped[int | None] = mapped_column(Integer)
    maker_china_rank: Mapped[int | None] = mapped_column(Integer)
    rd_institution_level: Mapped[int | None] = mapped_column(SmallInteger)
    strategic_emerging: Mapped[bool | None] = mapped_column(Boolean)
    product_field_level: Mapped[int | None] = mapped_column(SmallInteger)
    key_field_product: Mapped[bool | None] = mapped_column(Boolean)
    tech_demo: Mapped[bool | None] = mapped_column(Boolean)
    new_product: Mapped[bool | None] = mapped_column(Boolean)
