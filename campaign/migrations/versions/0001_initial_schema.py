"""The initial schema: leads, consent events, recipients, outbox, portal, reach.

Revision ID: 0001
Revises:
Create Date: 2026-12-02 02:04:02.990274
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_visits',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('utm_source', sa.String(length=64), nullable=False),
    sa.Column('utm_medium', sa.String(length=64), nullable=False),
    sa.Column('utm_campaign', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'utm_source', 'utm_medium', 'utm_campaign', name=op.f('pk_channel_visits'))
    )
    op.create_table('funnel_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('quiz', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('utm_source', sa.String(length=64), nullable=False),
    sa.Column('utm_medium', sa.String(length=64), nullable=False),
    sa.Column('utm_campaign', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'quiz', 'step', 'utm_source', 'utm_medium', 'utm_campaign', name=op.f('pk_funnel_counts'))
    )
    op.create_table('job_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=2), server_default='de', nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('adults', sa.Integer(), nullable=True),
    sa.Column('children', sa.Integer(), nullable=True),
    sa.Column('child_ages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('consents', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('timeframe', sa.String(length=32), nullable=True),
    sa.Column('consent_version', sa.String(length=64), nullable=True),
    sa.Column('consent_hash', sa.String(length=64), nullable=True),
    sa.Column('utm_source', sa.String(length=64), nullable=True),
    sa.Column('utm_medium', sa.String(length=64), nullable=True),
    sa.Column('utm_campaign', sa.String(length=64), nullable=True),
    sa.Column('place_code', sa.String(length=64), nullable=True),
    sa.Column('quiz', sa.String(length=64), nullable=True),
    sa.Column('quiz_outcome', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('submission_key', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'withdrawn', 'erased', 'anonymised')", name=op.f('ck_leads_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('public_id', name=op.f('uq_leads_public_id')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_leads_submission_key'))
    )
    op.create_index('ix_leads_status_created', 'leads', ['status', 'created_at'], unique=False)
    op.create_index('ix_leads_email_lower', 'leads', [sa.text('lower(email)')], unique=False,
                    sqlite_where=sa.text('email IS NOT NULL'),
                    postgresql_where=sa.text('email IS NOT NULL'))
    op.create_table('places',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target_slug', sa.String(length=64), server_default='', nullable=False),
    sa.Column('utm_medium', sa.String(length=8), server_default='qr', nullable=False),
    sa.Column('utm_campaign', sa.String(length=64), nullable=False),
    sa.Column('pitch', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.CheckConstraint("target_kind IN ('landing', 'quiz', 'municipality', 'lead_form')", name=op.f('ck_places_target_kind')),
    sa.CheckConstraint("utm_medium IN ('qr', 'print')", name=op.f('ck_places_utm_medium')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_places'))
    )
    op.create_index('ix_places_org_created', 'places', ['org', 'created_at'], unique=False)
    op.create_table('rate_counts',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counts'))
    )
    op.create_index('ix_rate_counts_window', 'rate_counts', ['window_start'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), server_default='staff', nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('staff', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_audit_log_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_lead_at', 'audit_log', ['lead_id', 'at'], unique=False)
    op.create_table('consent_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('grp', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("event IN ('given', 'confirmed', 'withdrawn', 'erased')", name=op.f('ck_consent_events_event')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_consent_events_lead_id_leads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    op.create_index(op.f('ix_consent_events_lead_id'), 'consent_events', ['lead_id'], unique=False)
    op.create_table('lead_interests',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_interests_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'code', name=op.f('pk_lead_interests'))
    )
    op.create_index('ix_lead_interests_code', 'lead_interests', ['code'], unique=False)
    op.create_table('lead_municipalities',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_municipalities_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'slug', name=op.f('pk_lead_municipalities'))
    )
    op.create_index('ix_lead_municipalities_slug', 'lead_municipalities', ['slug'], unique=False)
    op.create_table('lead_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_notes_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lead_notes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_notes'))
    )
    op.create_index('ix_lead_notes_lead_org', 'lead_notes', ['lead_id', 'org'], unique=False)
    op.create_table('lead_recipients',
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), server_default='neu', nullable=False),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_recipients_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'org', name=op.f('pk_lead_recipients'))
    )
    op.create_index('ix_lead_recipients_org_routed', 'lead_recipients', ['org', 'routed_at'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('org', sa.String(length=64), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('message_id', sa.Text(), nullable=False),
    sa.Column('message', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=8), server_default='queued', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent', 'dead')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_outbox_lead_id_leads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outbox_lead_id'), 'outbox', ['lead_id'], unique=False)
    op.create_table('place_scans',
    sa.Column('place_code', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['place_code'], ['places.code'], name=op.f('fk_place_scans_place_code_places'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('place_code', 'day', name=op.f('pk_place_scans'))
    )
    op.create_table('sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_sessions'))
    )
    op.create_index(op.f('ix_sessions_user_id'), 'sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sessions_user_id'), table_name='sessions')
    op.drop_table('sessions')
    op.drop_table('place_scans')
    op.drop_index(op.f('ix_outbox_lead_id'), table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_lead_recipients_org_routed', table_name='lead_recipients')
    op.drop_table('lead_recipients')
    op.drop_index('ix_lead_notes_lead_org', table_name='lead_notes')
    op.drop_table('lead_notes')
    op.drop_index('ix_lead_municipalities_slug', table_name='lead_municipalities')
    op.drop_table('lead_municipalities')
    op.drop_index('ix_lead_interests_code', table_name='lead_interests')
    op.drop_table('lead_interests')
    op.drop_index(op.f('ix_consent_events_lead_id'), table_name='consent_events')
    op.drop_table('consent_events')
    op.drop_index('ix_audit_log_lead_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('users')
    op.drop_index('ix_rate_counts_window', table_name='rate_counts')
    op.drop_table('rate_counts')
    op.drop_index('ix_places_org_created', table_name='places')
    op.drop_table('places')
    op.drop_index('ix_leads_email_lower', table_name='leads')
    op.drop_index('ix_leads_status_created', table_name='leads')
    op.drop_table('leads')
    op.drop_table('job_leases')
    op.drop_table('funnel_counts')
    op.drop_table('channel_visits')
