"""The bot's own typed failures, beside ``artisto.errors``; each ``code`` is a reason
category stored with a failed job and shown to the user translated (``Texts.failure``)."""

from __future__ import annotations

from artisto.errors import ArtistoError


class DownloadFailed(ArtistoError):
    """Telegram would not hand over the user's file."""

    code = "download"


class UploadFailed(ArtistoError):
    """Telegram refused the finished result."""

    code = "upload"


class UserBlockedBot(ArtistoError):
    """The user blocked the bot: nothing can reach them any more."""

    code = "blocked"


class Refusal(ArtistoError):
    """A request turned away before any work, with the number the user needs to hear."""

    code = "refused"


class FileTooLarge(Refusal):
    code = "too_large"

    def __init__(self, limit_mb: int) -> None:
        super().__init__(f"the file is over {limit_mb} MB")
        self.limit_mb = limit_mb


class VideoTooLong(Refusal):
    code = "too_large"

    def __init__(self, limit_s: int) -> None:
        super().__init__(f"the video is over {limit_s} s")
        self.limit_s = limit_s


class TooManyPixels(Refusal):
    code = "too_large"

    def __init__(self, limit_mp: float) -> None:
        super().__init__(f"the image is over {limit_mp:g} megapixels")
        self.limit_mp = limit_mp


class WrongFileType(Refusal):
    code = "unsupported"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} files are not stylized")
        self.what = what
