"""The bot with the diagnostics on, its clock at the corpus's 'now'."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import RunningBot
from tests.diagnostics.corpus import NOW


@pytest.fixture
def settings(settings) -> Settings:
    return replace(settings, diagnostics=True)


@pytest_asyncio.fixture
async def bot(settings):
    async with RunningBot(settings, clock=ManualClock(NOW)) as running:
        yield running
