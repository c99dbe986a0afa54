"""tiers 2026: profile fields the 2026 tier packs read; the certification field renamed

Adds enterprise_profile.srdi_eval_score (the yearly 专精特新发展评价 score) and national_rank (national
niche market-share rank), and renames foreign_certification to certification (any relevant
management-system certification counts, not only a foreign one).

Revision ID: 0006_tiers_2026
Revises: 0004_accounts_trust
Create Date: 2026-11-30 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_tiers_2026'
down_revision = '0004_accounts_trust'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprise_profile') as batch:
        batch.add_column(sa.Column('national_rank', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('srdi_eval_score', sa.Float(), nullable=True))
        batch.alter_column('foreign_certification', new_column_name='certification',
                           existing_type=sa.Boolean(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('enterprise_profile') as batch:
        batch.alter_column('certification', new_column_name='foreign_certification',
                           existing_type=sa.Boolean(), existing_nullable=True)
        batch.drop_column('srdi_eval_score')
        batch.drop_column('national_rank')
