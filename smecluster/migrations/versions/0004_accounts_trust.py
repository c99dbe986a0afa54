"""Accounts trust: keyed audit chain version, one-time account tokens.

Revision ID: 0004_accounts_trust
Revises: 0002_tiers
Create Date: 2026-11-30 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_accounts_trust'
down_revision = '0002_tiers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing entries keep their plain SHA-256 hashes (chain 1); new ones are HMAC-keyed (chain 2).
    # ADD COLUMN fires no UPDATE trigger, so the append-only triggers stay as they are.
    op.add_column('audit_entry', sa.Column('chain', sa.Integer(), nullable=False, server_default='1'))
    op.create_table('account_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_token_account_id'))
    op.drop_table('account_token')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('chain')
