"""The Bot API over HTTP: ``/bot{token}/{method}`` and ``/file/bot{token}/{file_path}``.

Replies have Telegram's exact shapes: ``{"ok": true, "result": ...}`` with status 200, or
``{"ok": false, "error_code": N, "description": ...}`` with HTTP status N, so aiogram raises
the same exception classes it raises against Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from playground.errors import ApiError, bad_request
from playground.methods import BY_LOWER_NAME
from playground.params import Params, entity_too_large
from playground.state import State

JsonDict = dict[str, Any]

log = logging.getLogger(__name__)

UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


class BotApi:
    def __init__(self, state: State) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle_call)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self.handle_download)

    async def handle_call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.config.token:
            return web.json_response(UNAUTHORIZED, status=401)
        name = request.match_info["method"]
        try:
            params = await Params.read(request, self.state.config.max_upload_bytes)
        except ApiError as exc:
            return web.json_response(exc.to_json(), status=exc.error_code)
        except web.HTTPRequestEntityTooLarge:
            error = entity_too_large()
            return web.json_response(error.to_json(), status=error.error_code)
        except ValueError:  # a malformed form or multipart body
            error = bad_request("can't parse the request body")
            return web.json_response(error.to_json(), status=error.error_code)
        body = await self.call(name, params)
        status = 200 if body["ok"] else int(body["error_code"])
        return web.json_response(body, status=status)

    async def call(self, name: str, params: Params) -> JsonDict:
        """Run one method and return the reply body."""
        handler = BY_LOWER_NAME.get(name.lower())
        if handler is None:
            return NOT_FOUND
        try:
            await self._injected_stall(name)
            self._injected_failure(name)
            result = await handler(self.state, params)
        except ApiError as exc:
            log.debug("playground.api_error", extra={"method": name, "error": exc.description})
            return exc.to_json()
        log.debug("playground.call", extra={"method": name})
        return {"ok": True, "result": result}

    async def call_from_webhook_reply(self, call: JsonDict) -> None:
        """Run the method a webhook answered with; its result goes nowhere, as on Telegram."""
        fields = {key: value for key, value in call.items() if key != "method"}
        body = await self.call(str(call["method"]), Params(fields, {}))
        if not body["ok"]:
            log.warning(
                "playground.webhook_reply_failed",
                extra={"method": call["method"], "error": body["description"]},
            )

    async def _injected_stall(self, name: str) -> None:
        for stall in self.state.stalls:
            if stall.method.lower() == name.lower() and stall.times > 0:
                stall.times -= 1
                if stall.times == 0:
                    self.state.stalls.remove(stall)
                await asyncio.sleep(stall.seconds)
                return

    def _injected_failure(self, name: str) -> None:
        for failure in self.state.failures:
            if failure.method.lower() == name.lower() and failure.times > 0:
                failure.times -= 1
                if failure.times == 0:
                    self.state.failures.remove(failure)
                raise ApiError(failure.error_code, failure.description, failure.parameters)

    async def handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.config.token:
            return web.json_response(UNAUTHORIZED, status=401)
        stored = self.state.files.by_path(request.match_info["file_path"])
        if stored is None:
            return web.json_response(NOT_FOUND, status=404)
        if stored.file_size > self.state.config.max_download_bytes:
            error = {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}
            return web.json_response(error, status=400)
        return web.Response(body=self.state.files.content(stored), content_type=stored.mime_type)
