"""Tables: users, chats, media, jobs (the durable queue), results (the output cache), updates,
and the send pace the processes of a fleet share.

Timestamps are timezone-aware UTC in Python on every backend (see ``UtcDateTime``), set by
Python rather than by the server so that SQLite and PostgreSQL store comparable values.
Telegram ids are ``BigInteger`` (user ids exceed 2**31, supergroup ids are below -10**12);
the project's own surrogate keys are ``Integer`` so that SQLite makes them rowid aliases.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths: Telegram does not document them; observed file_ids are about 80-100 characters
# and file_unique_ids about 15-20, so these leave generous room.
FILE_ID_LEN = 256
UNIQUE_ID_LEN = 64
STYLE_LEN = 64
ERROR_CODE_LEN = 64
WORKER_ID_LEN = 128
PACE_KEY_LEN = 32


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in Python, whatever the backend stores.

    SQLite has no time zones: SQLAlchemy writes the wall-clock digits and reads back a naive
    value, so an aware value is converted to UTC before it is written and tagged UTC when read.
    Naive values are refused: they are a bug waiting to compare wrongly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    """A VARCHAR with a named CHECK constraint, storing the members' values.

    Not a native PostgreSQL ENUM: adding a member later is then a plain batch migration on
    both backends instead of an ``ALTER TYPE`` that cannot run inside a transaction.
    """
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in cls) + 8,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ChatType(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class MediaKind(enum.StrEnum):
    """How the user sent the file; the result goes back in the matching kind."""

    PHOTO = "photo"
    IMAGE_DOCUMENT = "image_document"
    VIDEO = "video"
    ANIMATION = "animation"
    VIDEO_NOTE = "video_note"
    VIDEO_DOCUMENT = "video_document"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL_STATUSES = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class ResultKind(enum.StrEnum):
    """How the result was sent to Telegram, which decides how its file_id can be reused."""

    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"
    VIDEO_NOTE = "video_note"
    DOCUMENT = "document"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(128))
    language_code: Mapped[str | None] = mapped_column(
        String(16), doc="Telegram's IETF tag for the user's client, refreshed on each contact."
    )
    language: Mapped[str | None] = mapped_column(
        String(8), doc="Chosen with /lang; None means: follow language_code."
    )
    is_blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    picked_style: Mapped[str | None] = mapped_column(
        String(STYLE_LEN), doc="Picked in the /styles gallery for the next photo or video."
    )
    picked_until: Mapped[datetime | None] = mapped_column(doc="When the pick lapses.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[ChatType] = mapped_column(_enum(ChatType, "chat_type"))
    title: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Media(Base):
    """One media message a user sent: what to stylize and what to reply to.

    Unique per message rather than per file: the same photo forwarded to two chats is two
    rows, because each result must reply to its own original message. The output cache is
    keyed by ``file_unique_id`` in ``results`` instead.
    """

    __tablename__ = "media"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[MediaKind] = mapped_column(_enum(MediaKind, "media_kind"))
    file_id: Mapped[str] = mapped_column(String(FILE_ID_LEN))
    file_unique_id: Mapped[str] = mapped_column(String(UNIQUE_ID_LEN), index=True)
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A request to stylize one media in one style; the jobs table is the durable queue.

    ``priority``: smaller runs first (the claim orders by priority, then id). A running job
    is held by ``worker_id`` until ``lease_until``, which the worker renews; past it, any
    process puts the job back. A style keyboard becomes at most one job: the keyboard is the
    job's status message, unique per chat.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # The claim: WHERE status = 'queued' ORDER BY priority, id; also count_ahead, depth.
        Index("ix_jobs_queue", "status", "priority", "id"),
        Index("ix_jobs_user_status", "user_id", "status"),
        Index("ix_jobs_user_created", "user_id", "created_at"),
        Index("ix_jobs_finished_at", "finished_at"),
        # The expiry sweep: WHERE status = 'running' AND lease_until < now.
        Index("ix_jobs_lease", "status", "lease_until"),
        Index("uq_jobs_keyboard", "chat_id", "status_message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("media.id", ondelete="CASCADE"), index=True
    )
    style: Mapped[str] = mapped_column(String(STYLE_LEN))
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(ERROR_CODE_LEN))
    status_message_id: Mapped[int | None] = mapped_column(
        BigInteger, doc="The bot's message that is edited in place with the job's status."
    )
    message_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    progress: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    download_ms: Mapped[int | None] = mapped_column(Integer)
    inference_ms: Mapped[int | None] = mapped_column(Integer)
    upload_ms: Mapped[int | None] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(
        String(WORKER_ID_LEN), doc="The worker process that claimed the job last."
    )
    lease_until: Mapped[datetime | None] = mapped_column(
        doc="Until when the worker's claim holds; renewed while the job runs."
    )
    delivering_at: Mapped[datetime | None] = mapped_column(
        doc="When a worker passed the lease check and began sending the result: a job that "
        "comes back with it set may already have reached the chat."
    )


class Result(Base):
    """A stylized output already on Telegram's servers, reusable by its file_id.

    ``source_unique_id`` copies the media's ``file_unique_id`` so that the cache key
    (source, style) can be a real unique constraint, not a join.
    """

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("source_unique_id", "style"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.id", ondelete="CASCADE"), unique=True
    )
    source_unique_id: Mapped[str] = mapped_column(String(UNIQUE_ID_LEN))
    style: Mapped[str] = mapped_column(String(STYLE_LEN))
    kind: Mapped[ResultKind] = mapped_column(_enum(ResultKind, "result_kind"))
    file_id: Mapped[str] = mapped_column(String(FILE_ID_LEN))
    file_unique_id: Mapped[str] = mapped_column(String(UNIQUE_ID_LEN))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so that a redelivered update is ignored."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SendPace(Base):
    """Telegram's rate limits, shared by every process: per key (the whole bot, or one chat),
    the theoretical time of the next send (GCRA), moved on by each reservation."""

    __tablename__ = "send_pace"

    key: Mapped[str] = mapped_column(String(PACE_KEY_LEN), primary_key=True)
    next_at: Mapped[datetime] = mapped_column()
