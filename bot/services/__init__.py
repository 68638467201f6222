"""Use cases: each owns its transaction (``async with sessions.begin()``) and never holds a
session across a Telegram call or an inference."""
