"""priority: fields of the priority indicators, cluster_year, national_recommendation.

enterprise_year gains invention_patents, energy_use, exports and smart_mfg_level; cluster_year holds
a cluster's own cooperation facts by year; national_recommendation the province's confirmed list.

Revision ID: 0011_priority
Revises: 0009_scenarios
Create Date: 2026-11-30 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_priority'
down_revision = '0009_scenarios'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprise_year') as batch:
        batch.add_column(sa.Column('invention_patents', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('energy_use', sa.Float(), nullable=True))
        batch.add_column(sa.Column('exports', sa.Float(), nullable=True))
        batch.add_column(sa.Column('smart_mfg_level', sa.Integer(), nullable=True))
    op.create_table('cluster_year',
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('promotion_org', sa.Boolean(), nullable=True),
    sa.Column('alliances', sa.Integer(), nullable=True),
    sa.Column('cooperation_agreements', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ),
    sa.PrimaryKeyConstraint('cluster_id', 'year')
    )
    op.create_table('national_recommendation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('priority_pack', sa.String(length=64), nullable=False),
    sa.Column('national_pack', sa.String(length=64), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('clusters', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('national_recommendation')
    op.drop_table('cluster_year')
    with op.batch_alter_table('enterprise_year') as batch:
        batch.drop_column('smart_mfg_level')
        batch.drop_column('exports')
        batch.drop_column('energy_use')
        batch.drop_column('invention_patents')
