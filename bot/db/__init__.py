"""Persistence: SQLAlchemy 2 async models, repositories, engine and Alembic migrations.

The jobs table is the durable queue (see ``bot.db.repositories.jobs``). Sessions are short:
open one per unit of work, never across an inference.
"""

from __future__ import annotations

from bot.db.engine import (
    DatabaseConfigError,
    DatabaseUnavailable,
    create_engine,
    create_session_factory,
)
from bot.db.models import (
    Base,
    Chat,
    ChatType,
    Job,
    JobStatus,
    Media,
    MediaKind,
    ProcessedUpdate,
    Result,
    ResultKind,
    User,
    utcnow,
)
from bot.db.repositories import Repos

__all__ = [
    "Base",
    "Chat",
    "ChatType",
    "DatabaseConfigError",
    "DatabaseUnavailable",
    "Job",
    "JobStatus",
    "Media",
    "MediaKind",
    "ProcessedUpdate",
    "Repos",
    "Result",
    "ResultKind",
    "User",
    "create_engine",
    "create_session_factory",
    "utcnow",
]
