"""Answers to what users do in the client: button taps and inline queries."""

from __future__ import annotations

from typing import Any

from playground.errors import ApiError, bad_request
from playground.methods.common import Handler, keyboard_markup
from playground.options import (
    CALLBACK_ANSWER_LIMIT,
    INLINE_RESULT_ID_LIMIT,
    INLINE_RESULTS_LIMIT,
)
from playground.params import Params
from playground.state import State

JsonDict = dict[str, Any]

# Inline result type -> (cached file field, file kind it must be, URL field).
INLINE_MEDIA = {
    "photo": ("photo_file_id", "photo", "photo_url"),
    "video": ("video_file_id", "video", "video_url"),
    "mpeg4_gif": ("mpeg4_file_id", "animation", "mpeg4_url"),
    "gif": ("gif_file_id", "animation", "gif_url"),
    "document": ("document_file_id", "document", "document_url"),
}


def query_too_old() -> ApiError:
    return bad_request("query is too old and response timeout expired or query ID is invalid")


async def answer_callback_query(state: State, params: Params) -> bool:
    record = state.callbacks.get(params.text("callback_query_id") or "")
    if record is None or record.answer is not None:
        raise query_too_old()
    text = params.text("text") or ""
    if len(text) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer = {
        "callback_query_id": record.query["id"],
        "user_id": record.query["from"]["id"],
        "chat_id": record.chat_id,
        "text": text,
        "show_alert": params.flag("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time") or 0,
    }
    state.events.add("callback_answer", **record.answer)
    return True


async def answer_inline_query(state: State, params: Params) -> bool:
    record = state.inline_queries.get(params.text("inline_query_id") or "")
    if record is None or record.answer is not None:
        raise query_too_old()
    results = params.json("results", error="can't parse inline query results JSON object")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > INLINE_RESULTS_LIMIT:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    checked = [_inline_result(state, result, seen) for result in results]
    record.answer = {
        "inline_query_id": record.query["id"],
        "user_id": record.query["from"]["id"],
        "chat_id": record.chat_id,
        "query": record.query["query"],
        "results": checked,
        "next_offset": params.text("next_offset") or "",
        "is_personal": params.flag("is_personal"),
        "cache_time": params.integer("cache_time") or 300,
        "button": params.json("button", error="can't parse InlineQueryResultsButton"),
    }
    state.events.add("inline_answer", **record.answer)
    return True


def _inline_result(state: State, result: Any, seen: set[str]) -> JsonDict:
    if not isinstance(result, dict):
        raise bad_request("can't parse InlineQueryResult JSON object")
    result_id, kind = result.get("id"), result.get("type")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= INLINE_RESULT_ID_LIMIT:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    if kind == "article":
        content = result.get("input_message_content")
        if not isinstance(result.get("title"), str) or not isinstance(content, dict):
            raise bad_request("can't parse InlineQueryResultArticle")
    elif kind in INLINE_MEDIA:
        file_field, file_kind, url_field = INLINE_MEDIA[kind]
        if file_field in result:
            state.files.resend(str(result[file_field]), file_kind)
        elif not isinstance(result.get(url_field), str):
            raise bad_request(f"can't parse InlineQueryResult: {file_field} or {url_field} needed")
    else:
        raise bad_request("RESULT_TYPE_INVALID")
    checked = dict(result)
    if "reply_markup" in result:
        markup = keyboard_markup(result["reply_markup"])
        if markup is None:
            raise bad_request("can't parse reply keyboard markup JSON object")
        checked["reply_markup"] = markup
    return checked


METHODS: dict[str, Handler] = {
    "answerCallbackQuery": answer_callback_query,
    "answerInlineQuery": answer_inline_query,
}
