"""watch: yearly reports of recognised clusters (cluster_report).

Revision ID: 0011b_watch
Revises: 0011_priority (0009_scenarios before the merge of the decisions branch)
Create Date: 2026-11-30 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011b_watch'
down_revision = '0011_priority'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cluster_report',
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ),
    sa.PrimaryKeyConstraint('cluster_id', 'year')
    )


def downgrade() -> None:
    op.drop_table('cluster_report')
