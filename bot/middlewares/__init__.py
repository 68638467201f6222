"""Middlewares, only where an update or a request needs them: per-update context (dedup,
user and chat rows, language) and Telegram request retries."""
