"""Demo accounts: one per role around Changshu (常熟市) and Suzhou (苏州市), the ministry (工业和信息化部)
for the national view, with generated passwords."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account
from smecluster.accounts.users import add_user
from smecluster.registry.models import Enterprise

DEMO_ACCOUNTS = [
    ("demo_province", "province_admin", "320000", "江苏省工信厅（演示）"),
    ("demo_city", "city_reviewer", "320500", "苏州市工信局（演示）"),
    ("demo_county", "county_applicant", "320581", "常熟市工信局（演示）"),
    ("demo_county2", "county_applicant", "320312", "铜山区工信局（演示）"),
    ("demo_expert", "expert", "320000", "评审专家（演示）"),
    ("demo_ministry", "ministry", None, "工业和信息化部（演示）"),
    ("demo_sysadmin", "system_admin", None, "系统管理员（演示）"),
    ("demo_secadmin", "security_admin", None, "安全保密管理员（演示）"),
    ("demo_auditor", "audit_admin", None, "安全审计员（演示）"),
]


def create_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; returns (username, role, password) of new ones."""
    created = []
    existing = set(session.scalars(select(Account.username)))
    firm = session.scalar(select(Enterprise.uscc).where(Enterprise.county_code == "320581").limit(1))
    wanted = list(DEMO_ACCOUNTS)
    if firm:
        wanted.append(("demo_firm", "enterprise_user", None, "演示企业"))
    for username, role, region, name in wanted:
        if username in existing:
            continue
        password = secrets.token_urlsafe(9) + "-Aa1"
        add_user(
            session,
            username,
            password,
            role,
            region_code=region,
            display_name=name,
            uscc=firm if role == "enterprise_user" else None,
            actor="demo",
        )
        created.append((username, role, password))
    return created
