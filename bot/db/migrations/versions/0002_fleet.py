"""fleet: job leases, one job per style keyboard, style picks on users, the shared send pace

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-14 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A double tap used to be stopped in one process's memory only: keep the first job of each
# keyboard on it, so that the unique index can be built over old rows.
_ONE_JOB_PER_KEYBOARD = """
UPDATE jobs SET status_message_id = NULL
WHERE status_message_id IS NOT NULL
  AND id NOT IN (
    SELECT MIN(id) FROM jobs WHERE status_message_id IS NOT NULL
    GROUP BY chat_id, status_message_id
  )
"""


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("worker_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delivering_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_ONE_JOB_PER_KEYBOARD)
    op.create_index("ix_jobs_lease", "jobs", ["status", "lease_until"])
    op.create_index("uq_jobs_keyboard", "jobs", ["chat_id", "status_message_id"], unique=True)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("picked_style", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("picked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "send_pace",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("picked_until")
        batch.drop_column("picked_style")
    op.drop_index("uq_jobs_keyboard", table_name="jobs")
    op.drop_index("ix_jobs_lease", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("delivering_at")
        batch.drop_column("lease_until")
        batch.drop_column("worker_id")
