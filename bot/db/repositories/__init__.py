"""Repositories: SQL in, ORM rows out; they flush but never commit.

``Repos(session)`` bundles them for a service that uses several in one transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.repositories.chats import ChatRepo
from bot.db.repositories.claims import Claim
from bot.db.repositories.jobs import JobRepo, JobStats
from bot.db.repositories.leases import ATTEMPTS_EXHAUSTED, LeaseRepo, Recovered
from bot.db.repositories.media import MediaRepo
from bot.db.repositories.pace import PaceRepo
from bot.db.repositories.results import ResultRepo
from bot.db.repositories.updates import UpdateRepo
from bot.db.repositories.users import UserRepo


class Repos:
    """Every repository over one session: ``repos = Repos(session); await repos.jobs...``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepo(session)
        self.chats = ChatRepo(session)
        self.media = MediaRepo(session)
        self.jobs = JobRepo(session)
        self.leases = LeaseRepo(session)
        self.pace = PaceRepo(session)
        self.results = ResultRepo(session)
        self.updates = UpdateRepo(session)


__all__ = [
    "ATTEMPTS_EXHAUSTED",
    "ChatRepo",
    "Claim",
    "JobRepo",
    "JobStats",
    "LeaseRepo",
    "MediaRepo",
    "PaceRepo",
    "Recovered",
    "Repos",
    "ResultRepo",
    "UpdateRepo",
    "UserRepo",
]
