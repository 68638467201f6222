"""Message text as Telegram stores it: plain text plus entities, with UTF-16 offsets.

A bot sends text with ``parse_mode`` (HTML, MarkdownV2 or legacy Markdown); Telegram parses
the markup, rejects what it cannot parse with "can't parse entities: ...", trims surrounding
whitespace and counts the length limit on the parsed text. Doing the same here makes markup
mistakes fail in tests the way they fail in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from playground.errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_HTML_ATTR = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}
_MD2_MARKS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
    ("`", "code"),
)
_MD_MARKS = (("*", "bold"), ("_", "italic"), ("`", "code"))
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")
_URL = re.compile(r"(?<![\w@/])https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_AUTO = ((_URL, "url"), (_COMMAND, "bot_command"), (_MENTION, "mention"))


@dataclass(frozen=True)
class Formatted:
    text: str
    entities: list[Entity] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def format_text(raw: str, parse_mode: str | None, entities: Any = None) -> Formatted:
    """Parse ``raw`` like Telegram does; explicit ``entities`` win over ``parse_mode``."""
    if entities is not None:
        return _trim(Formatted(raw, _checked_entities(entities)))
    mode = (parse_mode or "").lower()
    if mode == "":
        parsed = Formatted(raw)
    elif mode == "html":
        parsed = _Html(raw).parse()
    elif mode == "markdownv2":
        parsed = _Markdown(raw, v2=True).parse()
    elif mode == "markdown":
        parsed = _Markdown(raw, v2=False).parse()
    else:
        raise bad_request("unsupported parse_mode")
    trimmed = _trim(parsed)
    return Formatted(trimmed.text, auto_entities(trimmed.text, trimmed.entities))


def user_entities(text: str) -> list[Entity]:
    """The entities Telegram finds in plain text by itself: commands, mentions, links."""
    return auto_entities(text, [])


def auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """``entities`` plus the commands, mentions and links Telegram detects outside them.

    Telegram adds these to every message, a bot's included, except inside code, pre and
    links the sender marked up.
    """
    taken = [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] in ("code", "pre", "text_link", "url", "mention", "bot_command")
    ]
    found = list(entities)
    for pattern, kind in _AUTO:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group())
            if not any(start < stop and begin < end for begin, stop in taken):
                found.append({"type": kind, "offset": start, "length": end - start})
                taken.append((start, end))
    return _sorted(found)


def _checked_entities(entities: Any) -> list[Entity]:
    if not isinstance(entities, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in entities
    ):
        raise bad_request("can't parse entities JSON object")
    return [dict(e) for e in entities]


def _trim(parsed: Formatted) -> Formatted:
    """Telegram strips leading and trailing whitespace; entities move with the text."""
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return Formatted(text, _sorted(parsed.entities))
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return Formatted(stripped, _sorted(kept))


def _sorted(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


class _Builder:
    """Accumulates text and open entities while a parser walks the markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.position = 0
        self.entities: list[Entity] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_len(text)

    def close(self, entity: Entity, start: int) -> None:
        if self.position > start:
            self.entities.append({**entity, "offset": start, "length": self.position - start})

    def result(self) -> Formatted:
        return Formatted("".join(self.parts), self.entities)


def _byte_offset(raw: str, index: int) -> int:
    return len(raw[:index].encode())


@dataclass
class _Open:
    tag: str
    entity: Entity
    start: int
    inside_pre: bool = False
    offset: int = 0


class _Html:
    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.out = _Builder()
        self.stack: list[_Open] = []

    def parse(self) -> Formatted:
        raw, i = self.raw, 0
        while i < len(raw):
            char = raw[i]
            if char == "<":
                i = self._tag(i)
            elif char == "&" and (match := _HTML_ENTITY.match(raw, i)):
                self.out.add(_html_entity(match.group(1), match.group()))
                i = match.end()
            else:
                self.out.add(char)
                i += 1
        if self.stack:
            raise parse_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        return self.out.result()

    def _tag(self, start: int) -> int:
        end = self.raw.find(">", start)
        if end < 0:
            raise parse_error(f"Unclosed start tag at byte offset {_byte_offset(self.raw, start)}")
        body = self.raw[start + 1 : end].strip()
        if body.startswith("/"):
            self._end_tag(body[1:].strip().lower(), start)
        else:
            self._start_tag(body, start)
        return end + 1

    def _start_tag(self, body: str, start: int) -> None:
        name, _, rest = body.partition(" ")
        name = name.lower()
        kind = _HTML_TAGS.get(name)
        if kind is None or name == "":
            raise parse_error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(self.raw, start)}'
            )
        attrs = {
            m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
            for m in _HTML_ATTR.finditer(rest)
        }
        entity: Entity = {"type": kind}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise parse_error('Tag "span" must have class "tg-spoiler"')
        if name == "a":
            entity["url"] = attrs.get("href", "")
        if name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        if name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        inside_pre = name == "code" and bool(self.stack) and self.stack[-1].tag == "pre"
        if inside_pre and attrs.get("class", "").startswith("language-"):
            self.stack[-1].entity["language"] = attrs["class"].removeprefix("language-")
        self.stack.append(_Open(name, entity, self.out.position, inside_pre))

    def _end_tag(self, name: str, start: int) -> None:
        if not self.stack or self.stack[-1].tag != name:
            if any(open_.tag == name for open_ in self.stack):
                raise parse_error(
                    f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
                )
            raise parse_error(f"Unexpected end tag at byte offset {_byte_offset(self.raw, start)}")
        opened = self.stack.pop()
        if opened.inside_pre:
            return
        if opened.tag == "a" and not opened.entity["url"]:
            return
        self.out.close(opened.entity, opened.start)


def _html_entity(name: str, literal: str) -> str:
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else literal
    return _HTML_NAMED.get(name, literal)


class _Markdown:
    """MarkdownV2 (strict escaping) and legacy Markdown (bold, italic, code, pre, links)."""

    def __init__(self, raw: str, *, v2: bool) -> None:
        self.raw = raw
        self.v2 = v2
        self.out = _Builder()
        self.stack: list[_Open] = []
        self.marks = _MD2_MARKS if v2 else _MD_MARKS

    def parse(self) -> Formatted:
        i = 0
        while i < len(self.raw):
            i = self._step(i)
        if self.stack and self.stack[-1].tag == "blockquote":
            self._close()
        if self.stack:
            opened = self.stack[-1]
            if self.v2:
                name = _MD2_NAMES.get(opened.tag, opened.tag)
                raise parse_error(f"Can't find end of {name} entity at byte offset {opened.offset}")
            raise parse_error(
                f"Can't find end of the entity starting at byte offset {opened.offset}"
            )
        return self.out.result()

    def _top(self) -> str | None:
        return self.stack[-1].tag if self.stack else None

    def _step(self, i: int) -> int:
        raw, char = self.raw, self.raw[i]
        if char == "\\" and i + 1 < len(raw) and (self.v2 or raw[i + 1] in "_*`["):
            self.out.add(raw[i + 1])
            return i + 2
        top = self._top()
        if top in ("code", "pre"):
            closing = "```" if top == "pre" else "`"
            if raw.startswith(closing, i):
                self._close()
                return i + len(closing)
            self.out.add(char)
            return i + 1
        if raw.startswith("```", i):
            return self._pre_start(i)
        if self.v2 and char == ">" and (i == 0 or raw[i - 1] == "\n"):
            if top != "blockquote":
                self._open("blockquote", i)
            return i + 1
        if char == "\n" and top == "blockquote" and not raw.startswith(">", i + 1):
            self._close()
        for mark, kind in self.marks:
            if raw.startswith(mark, i):
                if top == kind:
                    self._close()
                else:
                    self._open(kind, i)
                return i + len(mark)
        if char == "[":
            self._open("text_link", i)
            return i + 1
        if char == "]" and top == "text_link":
            return self._link_end(i)
        if self.v2 and char in _MD2_RESERVED:
            raise parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self.out.add(char)
        return i + 1

    def _pre_start(self, i: int) -> int:
        """```language + newline opens a pre block with that language."""
        self._open("pre", i)
        newline = self.raw.find("\n", i + 3)
        header = self.raw[i + 3 : newline] if newline >= 0 else ""
        if newline < 0 or "`" in header or " " in header.strip():
            return i + 3
        if header.strip():
            self.stack[-1].entity["language"] = header.strip()
        return newline + 1

    def _open(self, kind: str, i: int) -> None:
        offset = _byte_offset(self.raw, i)
        self.stack.append(_Open(kind, {"type": kind}, self.out.position, offset=offset))

    def _close(self) -> None:
        opened = self.stack.pop()
        self.out.close(opened.entity, opened.start)

    def _link_end(self, i: int) -> int:
        raw = self.raw
        if not raw.startswith("(", i + 1):
            if self.v2:
                raise parse_error(
                    "Character ']' is reserved and must be escaped with the preceding '\\'"
                )
            self.stack.pop()  # legacy Markdown keeps "[text]" without a url as plain text
            return i + 1
        url: list[str] = []
        j = i + 2
        while j < len(raw) and raw[j] != ")":
            if raw[j] == "\\" and j + 1 < len(raw):
                j += 1
            url.append(raw[j])
            j += 1
        if j >= len(raw):
            raise parse_error(f"Can't find end of a url at byte offset {self.stack[-1].offset}")
        self.stack[-1].entity["url"] = "".join(url)
        self._close()
        return j + 1
