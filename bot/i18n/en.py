"""English."""

from __future__ import annotations

_REASONS = {
    "decode": "the file could not be read (it may be damaged, or in a format I don't know)",
    "too_large": "the file is over one of my limits",
    "unsupported": "I can't paint this kind of file",
    "unknown_style": "that style is no longer available",
    "bad_style_pack": "that style is broken on my side",
    "busy": "I'm overloaded right now",
    "timeout": "it took too long",
    "cancelled": "the request was cancelled",
    "unavailable": "the painter is not running at the moment",
    "attempts_exhausted": "I restarted several times while working on it",
    "download": "I couldn't fetch the file from Telegram",
    "upload": "Telegram didn't accept the result",
}
_OTHER_REASON = "something went wrong on my side"


class English:
    cmd_start = "Start and see how it works"
    cmd_help = "How to use the bot, limits"
    cmd_styles = "All styles"
    cmd_lang = "Language: English or Russian"
    cmd_cancel = "Cancel my queued requests"
    cmd_art = "Reply to a photo or video to paint it"

    def greeting(self, name: str) -> str:
        return (
            f"Hi, {name}! I turn photos and short videos into paintings, without flicker.\n\n"
            "Send me a photo, a video, a GIF or a round video note, then tap a style. "
            "In a group, reply /art to a photo or video."
        )

    def help(self, max_mb: int, max_video_s: int, max_note_s: int) -> str:
        return (
            "How it works:\n"
            "1. Send a photo, an image file (JPG, PNG, WebP), a video, a GIF or a video note.\n"
            "2. Tap a style under it, or 🎲 to let me choose.\n"
            "3. The painting comes back as a reply, in the same kind you sent.\n\n"
            f"Limits: files up to {max_mb} MB, videos up to {max_video_s} s, "
            f"video notes up to {max_note_s} s.\n\n"
            "In groups, reply /art to a photo or video. /styles shows every style, "
            "/lang switches the language, /cancel drops your queued requests."
        )

    def style_line(self, emoji: str, title: str, artist: str) -> str:
        return f"{emoji} {title} — {artist}"

    styles_title = "Styles:"
    no_styles = "No styles are installed yet."
    lang_prompt = "Choose your language:"
    lang_set = "Done: I'll speak English."

    def cancelled_jobs(self, count: int) -> str:
        noun = "request" if count == 1 else "requests"
        return f"Cancelled {count} queued {noun}."

    nothing_to_cancel = "You have nothing in the queue."
    art_usage = "Reply /art to a photo or a video, and I'll offer the styles."
    stats_admins_only = "Sorry, /stats is only for the bot's administrators."

    def style_picked(self, emoji: str, title: str) -> str:
        return f"Send me a photo or a video, and I'll paint it in {emoji} {title}."

    def stats(
        self,
        queued: int,
        running: int,
        done: int,
        failed: int,
        per_hour: float,
        latency: str,
        failures: str,
    ) -> str:
        return (
            f"Queue: {queued} waiting, {running} running.\n"
            f"Last hour: {done} done, {failed} failed, {per_hour:.0f} jobs/hour.\n"
            f"Median latency: {latency or '-'}\n"
            f"Failures: {failures or 'none'}"
        )

    choose_style = "Choose a style:"
    surprise_me = "🎲 Surprise me"

    def queued(self, ahead: int) -> str:
        if ahead == 0:
            return "Queued: you're next."
        return f"Queued: {ahead} ahead of you."

    stylizing = "Stylizing…"

    def stylizing_percent(self, percent: int) -> str:
        return f"Stylizing… {percent}%"

    resumed = "I restarted; your request is back in the queue."
    cancel_button = "✖ Cancel"
    cancelled = "Cancelled."
    queued_answer = "Queued"

    def result_caption(self, emoji: str, title: str, artist: str, year: str) -> str:
        when = f", {year}" if year else ""
        return f"{emoji} {title} — after {artist}{when}"

    another_style = "🎨 Another style"
    share = "↗ Share"
    original_quality = "⬇ Original quality"
    original_gone = "The original file is no longer stored. Pick the style again to remake it."

    not_yours = "This is someone else's request: reply /art to the photo yourself."
    stale_button = "This button no longer works."
    unknown_style = "That style is not available any more."

    def limit_concurrent(self, count: int) -> str:
        noun = "request" if count == 1 else "requests"
        return f"You already have {count} {noun} in progress. Please wait for them to finish."

    def limit_rate(self, per_minute: int) -> str:
        return f"Too many requests: the limit is {per_minute} a minute. Please try again shortly."

    def busy(self, minutes: int) -> str:
        unit = "minute" if minutes == 1 else "minutes"
        return f"I'm very busy right now. Please try again in about {minutes} {unit}."

    def too_large(self, limit_mb: int) -> str:
        return f"This file is too large: I can take files up to {limit_mb} MB."

    def too_long(self, limit_s: int) -> str:
        unit = "second" if limit_s == 1 else "seconds"
        return f"This video is too long: I can paint up to {limit_s} {unit}."

    def too_many_pixels(self, limit_mp: float) -> str:
        return f"This image is too large: I can take up to {limit_mp:g} megapixels."

    def unsupported_file(self, what: str) -> str:
        return f"I can't paint {what} files. Send a photo, a JPG/PNG/WebP image, or an MP4 video."

    hint_text = "Send me a photo or a short video and I'll turn it into a painting. /help"
    hint_other = "I can only paint photos and videos. Send me one! /help"

    def failure(self, code: str) -> str:
        return f"😔 Sorry, I couldn't paint this: {_REASONS.get(code, _OTHER_REASON)}."

    inline_empty = "No paintings yet: open the bot and send a photo"
