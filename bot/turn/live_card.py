"""The case's live card: the one card of a case that has buttons, and always the last card of the
case in the chat.

Every card a case asks the admin to act on goes through here. Asking again (resume, a validation
note, the dialect switch, values saved, a reminder's Continue) posts the card anew at the bottom
and retires the previous one to its read-only form, so the buttons are where the admin is looking.
An answered card becomes its summary; a case put aside keeps a card saying how to come back.
The case remembers which card is live and what it shows (`case.live_card`, `case.live_card_shows`),
so nothing here walks the dialog stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.cards import progress
from bot.cards import walkthrough as cards
from bot.cards.base import Card
from bot.playbook import Playbook
from bot.turn.replies import replace, show
from bot.walkthrough.case import RecoveryCase

MOVED_BELOW = "Shown again below: answer there."


@dataclass(frozen=True)
class LiveCard:
    playbook: Playbook

    async def post(self, context: Any, case: RecoveryCase, content: Card, shows: dict[str, str]) -> None:
        """Post `content` at the bottom as the case's live card; the previous one loses its buttons."""
        await self.retire(context, case, MOVED_BELOW)
        response = await show(context, content, case.id)
        case.live_card = response.id if response is not None and response.id else None
        case.live_card_shows = dict(shows) if case.live_card else {}

    async def answered(self, context: Any, case: RecoveryCase, summary: Card, clicked: str | None = None) -> None:
        """The card answered becomes `summary`, without buttons: the one clicked (the id Teams gave
        it), else the live card (a typed answer). One update: the live card's id may be the
        provisional one of the turn that posted it, and the same card as the id a click carries."""
        await replace(context, clicked or case.live_card, summary)
        case.live_card = None
        case.live_card_shows = {}

    async def retire(self, context: Any, case: RecoveryCase, why: str) -> None:
        """Take the buttons off the live card, leaving what it showed and `why`."""
        if not case.live_card:
            return
        await replace(context, case.live_card, self.read_only(case, case.live_card_shows, why))
        case.live_card = None
        case.live_card_shows = {}

    async def put_aside(self, context: Any, case: RecoveryCase, why: str) -> None:
        """The case is no longer current: its live card says so and how to come back."""
        if case.live_card:
            await replace(context, case.live_card, progress.paused_card(case, why))
        case.live_card = None
        case.live_card_shows = {}

    def read_only(self, case: RecoveryCase, shows: dict[str, str], why: str) -> Card:
        """The card `shows` describes, without buttons, ending with `why` (neither success nor failure)."""
        kind = shows.get("kind", "")
        leaf = self.playbook.leaves.get(case.leaf_id or "")
        if kind == "question":
            question = self.playbook.question(shows.get("question", ""))
            if question is not None:
                return cards.question_card(question, case, self.playbook, answered=why, tone="Default")
        step = leaf.step(shows.get("step", "")) if leaf is not None else None
        if leaf is not None and step is not None and kind == "step":
            return cards.step_card(leaf, step, case, self.playbook, answered=why, tone="Default")
        if leaf is not None and step is not None and kind == "confirm":
            return cards.confirm_card(leaf, step, case, self.playbook, answered=why, tone="Default")
        return progress.paused_card(case, why)
