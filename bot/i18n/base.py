"""What every language must say: the bot's whole vocabulary as one typed protocol.

A Python catalog rather than gettext or Fluent: aiogram's gettext i18n needs Babel and
compiled ``.mo`` files built at install time, Fluent another dependency; here a missing or
misspelt text is a mypy error (each language is checked against this protocol where it is
registered), Russian plurals are plain code, and the parameters of a text are typed.
"""

from __future__ import annotations

from typing import Protocol


class Texts(Protocol):
    # --- command menu -----------------------------------------------------------------
    cmd_start: str
    cmd_help: str
    cmd_styles: str
    cmd_lang: str
    cmd_cancel: str
    cmd_art: str

    # --- commands ---------------------------------------------------------------------
    def greeting(self, name: str) -> str: ...
    def help(self, max_mb: int, max_video_s: int, max_note_s: int) -> str: ...
    def style_line(self, emoji: str, title: str, artist: str) -> str: ...

    styles_title: str
    no_styles: str
    lang_prompt: str
    lang_set: str

    def cancelled_jobs(self, count: int) -> str: ...

    nothing_to_cancel: str
    art_usage: str
    stats_admins_only: str

    def style_picked(self, emoji: str, title: str) -> str: ...

    def stats(
        self,
        queued: int,
        running: int,
        done: int,
        failed: int,
        per_hour: float,
        latency: str,
        failures: str,
    ) -> str: ...

    # --- the style keyboard and the job's status --------------------------------------
    choose_style: str
    surprise_me: str

    def queued(self, ahead: int) -> str: ...

    stylizing: str

    def stylizing_percent(self, percent: int) -> str: ...

    resumed: str
    cancel_button: str
    cancelled: str
    queued_answer: str

    # --- results ----------------------------------------------------------------------
    def result_caption(self, emoji: str, title: str, artist: str, year: str) -> str: ...

    another_style: str
    share: str
    original_quality: str
    original_gone: str

    # --- refusals (callback alerts and replies) ---------------------------------------
    not_yours: str
    stale_button: str
    unknown_style: str

    def limit_concurrent(self, count: int) -> str: ...
    def limit_rate(self, per_minute: int) -> str: ...
    def busy(self, minutes: int) -> str: ...
    def too_large(self, limit_mb: int) -> str: ...
    def too_long(self, limit_s: int) -> str: ...
    def too_many_pixels(self, limit_mp: float) -> str: ...
    def unsupported_file(self, what: str) -> str: ...

    hint_text: str
    hint_other: str

    # --- failures ---------------------------------------------------------------------
    def failure(self, code: str) -> str: ...

    # --- inline mode ------------------------------------------------------------------
    inline_empty: str
