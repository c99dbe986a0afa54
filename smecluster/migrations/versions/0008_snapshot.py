"""snapshot: registry_version (the counter a columnar snapshot is checked against), index on enterprise_year.year

Revision ID: 0008_snapshot
Revises: 0006_tiers_2026
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0008_snapshot'
down_revision = '0006_tiers_2026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'registry_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registry_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'registry_id': uuid.uuid4().hex, 'version': 1}])
    # the newest data year (asked by every diagnosis) as an index probe instead of a scan
    op.create_index('ix_enterprise_year_year', 'enterprise_year', ['year'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_enterprise_year_year', table_name='enterprise_year')
    op.drop_table('registry_version')
