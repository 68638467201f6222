"""Settings, read from ``ARTISTO_*`` environment variables and an optional ``.env`` file.

Nested sections use a double underscore: ``ARTISTO_BOT__TOKEN``, ``ARTISTO_DB__URL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "ARTISTO_"
NESTED_DELIMITER = "__"

LOCAL_SERVER_MAX_MB = 2000
"""Largest file a local telegram-bot-api server (``--local``) hands over or takes, in MB; the
public Bot API allows far less (``limits.max_download_mb``, ``limits.max_upload_mb``)."""


class BotSettings(BaseModel):
    """How the bot reaches Telegram and who runs it."""

    token: SecretStr | None = Field(
        None,
        description="Bot token from @BotFather; without one, `artisto run` starts the playground.",
    )
    api_base: str = Field(
        "https://api.telegram.org",
        description="Bot API server: Telegram's, a local telegram-bot-api server, or an emulator.",
    )
    api_local_mode: bool = Field(
        False,
        description=f"The Bot API server runs in --local mode: files up to {LOCAL_SERVER_MAX_MB} "
        "MB, read from disk.",
    )
    mode: Literal["polling", "webhook"] = Field("polling", description="How updates arrive.")
    webhook_url: str | None = Field(None, description="Public HTTPS URL for webhook mode.")
    webhook_secret: SecretStr | None = Field(
        None, description="Secret token Telegram sends with every webhook request."
    )
    listen_host: str = Field("0.0.0.0", description="Address of the webhook and health server.")
    listen_port: int = Field(8081, description="Port of the webhook, /healthz and /metrics server.")
    admins: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Telegram user ids exempt from limits, allowed /stats.",
    )
    default_language: Literal["en", "ru"] = Field(
        "en", description="Language for users whose Telegram language is neither en nor ru."
    )
    playground_host: str = Field("127.0.0.1", description="Address of the playground's web page.")
    playground_port: int = Field(8080, description="Port of the playground's web page.")

    @field_validator("admins", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        # An environment variable holds "1,2" (or "[1, 2]"), not JSON that users get wrong.
        if isinstance(value, str):
            return [part.strip() for part in value.strip().strip("[]").split(",") if part.strip()]
        return value


class DbSettings(BaseModel):
    """Where requests are stored; the jobs table is the durable queue."""

    url: SecretStr | None = Field(
        None,
        description="SQLAlchemy async URL (secret: it may hold a password); default a SQLite "
        "file in the data folder. postgresql+asyncpg://user:pw@host/db switches to PostgreSQL.",
    )
    migrate_on_start: bool = Field(
        True, description="Apply Alembic migrations when the bot starts."
    )
    echo: bool = Field(False, description="Log every SQL statement.")


class WorkerSettings(BaseModel):
    """Worker processes: how many jobs each runs, how long a claimed job stays its own."""

    concurrency: int = Field(2, ge=1, description="Jobs one worker process runs at once.")
    lease_s: float = Field(
        30.0,
        gt=0,
        description="How long a claimed job stays its worker's without renewal (renewed every "
        "third of it); a dead worker's jobs go back to the queue after this.",
    )
    poll_s: float = Field(
        10.0,
        gt=0,
        description="How often an idle process looks at the queue when no signal woke it "
        "(on PostgreSQL, LISTEN/NOTIFY wakes it at once).",
    )


class InferenceSettings(BaseModel):
    """The inference pool and its devices."""

    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto picks CUDA when present, else the CPU."
    )
    cpu_threads: int = Field(0, ge=0, description="Torch threads on the CPU; 0 means all cores.")
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(
        "auto",
        description="Compute precision; auto is bf16 on CUDA and, on the CPU, bf16 where native "
        "and within 40 dB PSNR of fp32 (checked per style), else fp32.",
    )
    styles_dir: Path | None = Field(
        None, description="Extra folder of style packs, beside the shipped ones."
    )
    max_batch: int = Field(8, ge=1, description="Most same-style images in one forward pass.")
    max_wait_ms: float = Field(
        5.0, ge=0, description="How long a batch waits for mates before it runs."
    )
    queue_size: int = Field(256, ge=1, description="Pending work items before the pool says busy.")
    job_timeout_s: float = Field(600.0, gt=0, description="Longest a single job may run.")
    model_cache_size: int = Field(8, ge=1, description="Generators kept loaded (LRU).")
    model_cache_mb: int = Field(1024, ge=1, description="Memory the loaded generators may take.")
    warmup: bool = Field(
        True,
        description="Run each installed style once after start, in the background (on the CPU "
        "this compiles it); a stand-in engine serves meanwhile.",
    )
    max_side: int = Field(1280, ge=64, description="Longest side of a stylized photo, in pixels.")
    jpeg_quality: int = Field(92, ge=1, le=100, description="JPEG quality of results.")
    video_max_side: int = Field(720, ge=64, description="Longest processed side of a video.")
    video_crf: int = Field(23, ge=0, le=51, description="x264 constant rate factor of results.")
    video_preset: str = Field("veryfast", description="x264 preset of results.")
    temporal_pass: bool = Field(
        True, description="Keep the previous output where the input frame did not change."
    )


class LimitsSettings(BaseModel):
    """What one request and one user may ask for."""

    max_download_mb: int = Field(20, ge=1, description="Largest input file (public Bot API: 20).")
    max_upload_mb: int = Field(50, ge=1, description="Largest result file (public Bot API: 50).")
    max_video_seconds: float = Field(30.0, gt=0, description="Longest video accepted.")
    max_video_note_seconds: float = Field(60.0, gt=0, description="Longest video note accepted.")
    max_fps: float = Field(
        30.0, gt=0, description="Frame-rate cap; extra frames are dropped evenly."
    )
    max_megapixels: float = Field(50.0, gt=0, description="Largest image accepted, in megapixels.")
    user_concurrent_jobs: int = Field(2, ge=1, description="Jobs one user may have in flight.")
    user_jobs_per_minute: int = Field(10, ge=1, description="Jobs one user may start per minute.")
    queue_max: int = Field(200, ge=1, description="Queued jobs before new ones are turned away.")
    max_attempts: int = Field(3, ge=1, description="Tries of one job across restarts.")


class Settings(BaseSettings):
    """All of artisto's configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        # `ARTISTO_BOT__TOKEN=` (a blank line in .env or a unit file) means "not set", not "".
        env_ignore_empty=True,
        extra="ignore",
    )

    data_dir: Path = Field(Path("data"), description="Folder for the database, caches and runs.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level that is logged."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text: key=value lines; json: one JSON object per line."
    )
    bot: BotSettings = Field(default_factory=BotSettings)
    db: DbSettings = Field(default_factory=DbSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def database_url(self) -> str:
        """The configured URL, or a SQLite file in the data folder."""
        if self.db.url is not None and self.db.url.get_secret_value():
            return self.db.url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'artisto.db').resolve()}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def iter_settings(
    model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX
) -> list[tuple[str, str, str]]:
    """Every leaf setting as (environment variable, default, description), in declaration order."""
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(iter_settings(annotation, env + NESTED_DELIMITER))
            continue
        default = field.get_default(call_default_factory=True)
        rows.append((env, _render_default(default), field.description or ""))
    return rows


def explain(error: ValidationError) -> str:
    """One line naming each bad environment variable, for the CLI (pydantic's text spans lines).

    The offending values are left out: a mistyped secret must not reach a terminal or a log.
    """
    problems = []
    for item in error.errors():
        names = [str(part) for part in item["loc"] if isinstance(part, str)]
        variable = ENV_PREFIX + NESTED_DELIMITER.join(names).upper()
        problems.append(f"{variable}: {item['msg']}")
    return "invalid setting " + "; ".join(problems)


def _render_default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def settings_table() -> str:
    """The README's settings table, generated from the models above."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for env, default, description in iter_settings():
        shown = f"`{default}`" if default else ""
        lines.append(f"| `{env}` | {shown} | {description} |")
    return "\n".join(lines)
