"""Русский."""

from __future__ import annotations

_REASONS = {
    "decode": "файл не читается (возможно, он повреждён или в незнакомом формате)",
    "too_large": "файл превышает мои ограничения",
    "unsupported": "такие файлы я рисовать не умею",
    "unknown_style": "этого стиля больше нет",
    "bad_style_pack": "этот стиль сломан на моей стороне",
    "busy": "я сейчас перегружен",
    "timeout": "это заняло слишком много времени",
    "cancelled": "запрос отменён",
    "unavailable": "художник сейчас не работает",
    "attempts_exhausted": "я несколько раз перезапускался, пока работал над ним",
    "download": "не удалось получить файл от Telegram",
    "upload": "Telegram не принял результат",
}
_OTHER_REASON = "что-то пошло не так на моей стороне"


def plural(count: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for ``count``: 1 запрос, 2 запроса, 5 запросов, 21 запрос."""
    tens, units = count % 100, count % 10
    if units == 1 and tens != 11:
        return one
    if 2 <= units <= 4 and not 12 <= tens <= 14:
        return few
    return many


class Russian:
    cmd_start = "Начать и узнать, как это работает"
    cmd_help = "Как пользоваться, ограничения"
    cmd_styles = "Все стили"
    cmd_lang = "Язык: русский или английский"
    cmd_cancel = "Отменить мои запросы в очереди"
    cmd_art = "Ответьте на фото или видео, чтобы нарисовать его"

    def greeting(self, name: str) -> str:
        return (
            f"Привет, {name}! Я превращаю фото и короткие видео в картины, без мерцания.\n\n"
            "Пришлите фото, видео, GIF или видеосообщение-кружок и выберите стиль. "
            "В группе ответьте /art на фото или видео."
        )

    def help(self, max_mb: int, max_video_s: int, max_note_s: int) -> str:
        return (
            "Как это работает:\n"
            "1. Пришлите фото, картинку файлом (JPG, PNG, WebP), видео, GIF или кружок.\n"
            "2. Выберите стиль под ним или нажмите 🎲 — выберу я.\n"
            "3. Картина придёт ответом, в том же виде, в каком вы прислали.\n\n"
            f"Ограничения: файлы до {max_mb} МБ, видео до {max_video_s} с, "
            f"кружки до {max_note_s} с.\n\n"
            "В группах ответьте /art на фото или видео. /styles — все стили, "
            "/lang — язык, /cancel — отменить запросы в очереди."
        )

    def style_line(self, emoji: str, title: str, artist: str) -> str:
        return f"{emoji} {title} — {artist}"

    styles_title = "Стили:"
    no_styles = "Стили пока не установлены."
    lang_prompt = "Выберите язык:"
    lang_set = "Готово: говорю по-русски."

    def cancelled_jobs(self, count: int) -> str:
        noun = plural(count, "запрос", "запроса", "запросов")
        verb = "Отменён" if plural(count, "1", "2", "5") == "1" else "Отменено"
        return f"{verb} {count} {noun} в очереди."

    nothing_to_cancel = "У вас ничего нет в очереди."
    art_usage = "Ответьте /art на фото или видео, и я предложу стили."
    stats_admins_only = "Извините, /stats доступна только администраторам бота."

    def style_picked(self, emoji: str, title: str) -> str:
        return f"Пришлите фото или видео, и я нарисую его в стиле {emoji} {title}."

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
            f"Очередь: {queued} ждут, {running} в работе.\n"
            f"За час: готово {done}, ошибок {failed}, {per_hour:.0f} задач в час.\n"
            f"Медианная задержка: {latency or '-'}\n"
            f"Ошибки: {failures or 'нет'}"
        )

    choose_style = "Выберите стиль:"
    surprise_me = "🎲 Удиви меня"

    def queued(self, ahead: int) -> str:
        if ahead == 0:
            return "В очереди: вы следующий."
        return f"В очереди: перед вами {ahead}."

    stylizing = "Рисую…"

    def stylizing_percent(self, percent: int) -> str:
        return f"Рисую… {percent}%"

    resumed = "Я перезапустился; ваш запрос снова в очереди."
    cancel_button = "✖ Отмена"
    cancelled = "Отменено."
    queued_answer = "В очереди"

    def result_caption(self, emoji: str, title: str, artist: str, year: str) -> str:
        when = f", {year}" if year else ""
        return f"{emoji} {title} — по мотивам: {artist}{when}"

    another_style = "🎨 Другой стиль"
    share = "↗ Поделиться"
    original_quality = "⬇ В исходном качестве"
    original_gone = "Исходный файл больше не хранится. Выберите стиль снова, чтобы перерисовать."

    not_yours = "Это чужой запрос: ответьте /art на фото сами."
    stale_button = "Эта кнопка больше не работает."
    unknown_style = "Этого стиля больше нет."

    def limit_concurrent(self, count: int) -> str:
        noun = plural(count, "запрос", "запроса", "запросов")
        return f"У вас уже {count} {noun} в работе. Дождитесь, пожалуйста, их завершения."

    def limit_rate(self, per_minute: int) -> str:
        return f"Слишком много запросов: не больше {per_minute} в минуту. Попробуйте чуть позже."

    def busy(self, minutes: int) -> str:
        unit = plural(minutes, "минуту", "минуты", "минут")
        return f"Я сейчас очень занят. Попробуйте примерно через {minutes} {unit}."

    def too_large(self, limit_mb: int) -> str:
        return f"Файл слишком большой: я принимаю файлы до {limit_mb} МБ."

    def too_long(self, limit_s: int) -> str:
        unit = plural(limit_s, "секунды", "секунд", "секунд")
        return f"Видео слишком длинное: я рисую до {limit_s} {unit}."

    def too_many_pixels(self, limit_mp: float) -> str:
        return f"Изображение слишком большое: я принимаю до {limit_mp:g} мегапикселей."

    def unsupported_file(self, what: str) -> str:
        return (
            f"Файлы {what} я рисовать не умею. Пришлите фото, картинку JPG/PNG/WebP или видео MP4."
        )

    hint_text = "Пришлите фото или короткое видео, и я превращу его в картину. /help"
    hint_other = "Я рисую только фото и видео. Пришлите что-нибудь! /help"

    def failure(self, code: str) -> str:
        return f"😔 Простите, не получилось: {_REASONS.get(code, _OTHER_REASON)}."

    inline_empty = "Картин пока нет: откройте бота и пришлите фото"
