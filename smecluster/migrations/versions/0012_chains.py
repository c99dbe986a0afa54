"""chains: main products and business scope of enterprises, imported chain documents, link overrides.

Revision ID: 0012_chains
Revises: 0009_scenarios
Create Date: 2026-11-30 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_chains'
down_revision = '0017_quality'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprise') as batch:
        batch.add_column(sa.Column('main_products', sa.Text(), nullable=True))
        batch.add_column(sa.Column('business_scope', sa.Text(), nullable=True))
    op.create_table('chain_document',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('chain_link_override',
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('chain_id', sa.String(length=64), nullable=False),
    sa.Column('link_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['uscc'], ['enterprise.uscc'], ),
    sa.PrimaryKeyConstraint('uscc', 'chain_id')
    )


def downgrade() -> None:
    op.drop_table('chain_link_override')
    op.drop_table('chain_document')
    with op.batch_alter_table('enterprise') as batch:
        batch.drop_column('business_scope')
        batch.drop_column('main_products')
