"""quality: a year's return keeps the firm's name, county and industry as reported (data-quality checks)

Revision ID: 0017_quality
Revises: 0009_scenarios
Create Date: 2026-11-30 07:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_quality'
down_revision = '0011b_watch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprise_year') as batch:
        batch.add_column(sa.Column('reported_name', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('reported_county', sa.String(length=6), nullable=True))
        batch.add_column(sa.Column('reported_industry', sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enterprise_year') as batch:
        batch.drop_column('reported_industry')
        batch.drop_column('reported_county')
        batch.drop_column('reported_name')
