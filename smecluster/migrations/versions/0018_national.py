"""national: the province of a confirmed recommendation to the national list.

national_recommendation gains province_code (two digits; existing rows take the configured province)
and is unique by (province_code, year) instead of by year: a ministry database holds every
province's list.

Revision ID: 0018_national
Revises: 0012_chains
Create Date: 2026-11-30 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_national'
down_revision = '0012_chains'
branch_labels = None
depends_on = None


def _province() -> str:
    from smecluster.settings import province

    return province().code


def upgrade() -> None:
    naming = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    with op.batch_alter_table('national_recommendation', naming_convention=naming,
                              reflect_args=[sa.UniqueConstraint('year', name='uq_national_recommendation_year')]
                              ) as batch:
        batch.add_column(sa.Column('province_code', sa.String(length=2), nullable=True))
    op.execute(sa.text("UPDATE national_recommendation SET province_code = :p").bindparams(p=_province()))
    bind = op.get_bind()
    unique = [u for u in sa.inspect(bind).get_unique_constraints('national_recommendation')
              if u['column_names'] == ['year']]
    with op.batch_alter_table('national_recommendation', naming_convention=naming) as batch:
        batch.alter_column('province_code', existing_type=sa.String(length=2), nullable=False)
        for u in unique:
            batch.drop_constraint(u['name'] or 'uq_national_recommendation_year', type_='unique')
        batch.create_unique_constraint('uq_national_recommendation_province_year', ['province_code', 'year'])


def downgrade() -> None:
    with op.batch_alter_table('national_recommendation') as batch:
        batch.drop_constraint('uq_national_recommendation_province_year', type_='unique')
        batch.drop_column('province_code')
        batch.create_unique_constraint('uq_national_recommendation_year', ['year'])
