"""The investor's way in (accounts as second factor, activation and one-time codes, the attempts the rate limits
count), investors' contacts, the notifications sent, and each case's help and payment calendar

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('investor_account',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('investor_id', sa.String(length=64), nullable=False),
    sa.Column('account_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['fund_case.id'], name=op.f('fk_investor_account_case_id_fund_case')),
    sa.PrimaryKeyConstraint('case_id', 'investor_id', 'account_sha256', name=op.f('pk_investor_account'))
    )
    op.create_table('activation_code',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('investor_id', sa.String(length=64), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.String(length=32), nullable=False),
    sa.Column('used_at', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', sa.String(length=32), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['fund_case.id'], name=op.f('fk_activation_code_case_id_fund_case')),
    sa.ForeignKeyConstraint(['issued_by'], ['app_user.name'], name=op.f('fk_activation_code_issued_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_code')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_activation_code_code_sha256'))
    )
    op.create_index(op.f('ix_activation_code_investor_id'), 'activation_code', ['investor_id'], unique=False)
    op.create_table('investor_contact',
    sa.Column('investor_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=8), server_default='zh', nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('investor_id', name=op.f('pk_investor_contact'))
    )
    op.create_index(op.f('ix_investor_contact_email'), 'investor_contact', ['email'], unique=False)
    op.create_index(op.f('ix_investor_contact_phone'), 'investor_contact', ['phone'], unique=False)
    op.create_table('sign_in_code',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.String(length=32), nullable=False),
    sa.Column('used_at', sa.String(length=32), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("purpose IN ('sign_in', 'reset')", name=op.f('ck_sign_in_code_purpose_known')),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_sign_in_code_channel_known')),
    sa.ForeignKeyConstraint(['user_name'], ['app_user.name'], name=op.f('fk_sign_in_code_user_name_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_code'))
    )
    op.create_index(op.f('ix_sign_in_code_user_name'), 'sign_in_code', ['user_name'], unique=False)
    op.create_table('code_attempt',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_attempt'))
    )
    op.create_index(op.f('ix_code_attempt_subject'), 'code_attempt', ['subject'], unique=False)
    op.create_index(op.f('ix_code_attempt_client'), 'code_attempt', ['client'], unique=False)
    op.create_table('notification',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('investor_id', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.String(length=32), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("result IN ('pending', 'sent', 'failed')", name=op.f('ck_notification_result_known')),
    sa.ForeignKeyConstraint(['case_id'], ['fund_case.id'], name=op.f('fk_notification_case_id_fund_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('case_id', 'investor_id', 'event', 'ref', 'channel', name='uq_notification_once')
    )
    op.create_index(op.f('ix_notification_investor_id'), 'notification', ['investor_id'], unique=False)
    op.create_table('case_help',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('hotline', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('office_hours', sa.String(length=200), nullable=True),
    sa.Column('payment_dates', sa.Text(), server_default='', nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['fund_case.id'], name=op.f('fk_case_help_case_id_fund_case')),
    sa.ForeignKeyConstraint(['updated_by'], ['app_user.name'], name=op.f('fk_case_help_updated_by_app_user')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_help'))
    )


def downgrade() -> None:
    for table in ('case_help', 'notification', 'code_attempt', 'sign_in_code', 'investor_contact',
                  'activation_code', 'investor_account'):
        op.drop_table(table)
