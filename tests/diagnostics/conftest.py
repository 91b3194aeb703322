"""The bot with the diagnostics on, its clock at the corpus's 'now'."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import RunningBot
from tests.diagnostics.corpus import NOW


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(state_store="sqlite", sqlite_path=str(tmp_path / "state.sqlite3"), turns_per_minute=0, diagnostics=True)


@pytest_asyncio.fixture
async def bot(settings):
    async with RunningBot(settings, clock=ManualClock(NOW)) as running:
        yield running
