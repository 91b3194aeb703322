"""The baseline: a bare echo bot on the same SDK, stock CloudAdapter, nothing else.

Run by bench/run.py; `python bench/echo_bot.py` serves it on PORT (default 3979), auth off.
"""

from __future__ import annotations

import os

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


class EchoConfig:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        said = turn_context.activity.text or str(turn_context.activity.value)
        await turn_context.send_activity(MessageFactory.text(f"Echo: {said}"))


def main() -> None:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(EchoConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "3979")), print=None, access_log=None)


if __name__ == "__main__":
    main()
