"""/start, /help, /styles (with its style buttons), /lang, /cancel, and /stats for admins."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import GalleryPick, LanguageChoice
from bot.handlers.common import alert, thread_of
from bot.i18n import Texts, as_language, texts_for
from bot.keyboards import gallery_keyboard, language_keyboard
from bot.services.cancel import cancel_queued
from bot.services.gallery import Gallery
from bot.services.intake import IntakeService
from bot.services.jobs import JobService
from bot.services.people import set_language
from bot.services.picks import StylePicks
from bot.services.status import StatusBoard
from inference.registry import StyleRegistry


def style_sheet(registry: StyleRegistry, texts: Texts) -> str:
    if not len(registry):
        return texts.no_styles
    lines = [texts.style_line(p.meta.emoji, p.meta.title, p.meta.artist) for p in registry]
    return "\n".join([texts.styles_title, *lines])


async def start(message: Message, texts: Texts, registry: StyleRegistry) -> None:
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(f"{texts.greeting(name)}\n\n{style_sheet(registry, texts)}")


async def help_(message: Message, texts: Texts, intake: IntakeService) -> None:
    """The limits said are the ones the intake checks (the local server's file size included)."""
    limits = intake.limits
    await message.answer(texts.help(limits.max_mb, int(limits.max_video_s), int(limits.max_note_s)))


async def styles(
    message: Message, bot: Bot, texts: Texts, registry: StyleRegistry, gallery: Gallery
) -> None:
    sheet = style_sheet(registry, texts)
    if not len(registry):
        await message.answer(sheet)
        return
    photo = gallery.file_id or BufferedInputFile(await gallery.collage(), "artisto-styles.jpg")
    # Style buttons in private chats only: in a group the bot sees no media but /art replies.
    buttons = gallery_keyboard(registry) if message.chat.type == "private" else None
    sent = await bot.send_photo(
        message.chat.id,
        photo,
        caption=sheet,
        message_thread_id=thread_of(message),
        reply_markup=buttons,
    )
    if sent.photo:
        gallery.file_id = sent.photo[-1].file_id


async def style_picked(
    query: CallbackQuery,
    callback_data: GalleryPick,
    texts: Texts,
    registry: StyleRegistry,
    picks: StylePicks,
) -> None:
    """A style button under the gallery: that style is kept for the user's next photo or
    video, and the bot asks for one."""
    if callback_data.style not in registry:
        await alert(query, texts.unknown_style)
        return
    meta = registry.get(callback_data.style).meta
    await picks.remember(query.from_user.id, callback_data.style)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.style_picked(meta.emoji, meta.title))


async def lang(message: Message, texts: Texts) -> None:
    await message.answer(texts.lang_prompt, reply_markup=language_keyboard())


async def lang_chosen(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    language = as_language(callback_data.language)
    if language is None:
        await query.answer(texts_for("en").stale_button, show_alert=True)
        return
    await set_language(sessions, query.from_user.id, language)
    chosen = texts_for(language)
    await query.answer(chosen.lang_set)
    if isinstance(query.message, Message):
        await query.message.edit_text(chosen.lang_set)


async def cancel(message: Message, texts: Texts, jobs: JobService, status: StatusBoard) -> None:
    if message.from_user is None:
        return
    cancelled = await cancel_queued(jobs, status, message.from_user.id, texts.cancelled)
    await message.answer(texts.cancelled_jobs(cancelled) if cancelled else texts.nothing_to_cancel)


async def stats(message: Message, texts: Texts, is_admin: bool, jobs: JobService) -> None:
    """The queue and the last hour, for the admins in the configuration; a polite no to
    anyone else."""
    if not is_admin:
        await message.answer(texts.stats_admins_only)
        return
    s = await jobs.stats()
    latency = ", ".join(
        f"{kind.value} {seconds:.1f} s" for kind, seconds in s.median_latency_s.items()
    )
    failures = ", ".join(f"{code} {count}" for code, count in s.failures_by_code.items())
    await message.answer(
        texts.stats(s.queued, s.running, s.done, s.failed, s.jobs_per_hour, latency, failures)
    )


def setup() -> Router:
    router = Router(name="commands")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(styles, Command("styles"))
    router.callback_query.register(style_picked, GalleryPick.filter())
    router.message.register(lang, Command("lang"))
    router.callback_query.register(lang_chosen, LanguageChoice.filter())
    router.message.register(cancel, Command("cancel"))
    router.message.register(stats, Command("stats"))
    return router
