"""What the dialogs need from the rest of the bot, in one object built by app.py.

The admin's CaseBook is read once per turn by the bot and kept in the turn state, so dialogs and
commands see and change the same object, and it is saved once at the end of the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .case import CaseBook, RecoveryCase
from .playbook import Playbook

CASEBOOK_KEY = "mailbox_recovery.casebook"
IDENTITY_KEY = "mailbox_recovery.identity"


@dataclass(frozen=True)
class Identity:
    """Who is talking: the admin's Entra object id where Teams gives it, else the channel's user id."""

    user_id: str
    name: str
    tenant_id: str
    aad_object_id: str = ""
    conversation_id: str = ""


@dataclass
class Services:
    playbook: Playbook
    escalation: Any = None  # bot.escalation.Escalation, set by app.py
    card_ids: Any = None  # bot.outgoing.CardIds
    support: Any = None  # bot.support_channel.SupportDesk
    graph: Any = None  # bot.graph.GraphClient, when an app registration for Graph is configured

    @staticmethod
    def casebook(context) -> CaseBook:
        return context.turn_state[CASEBOOK_KEY]

    @staticmethod
    def identity(context) -> Identity:
        return context.turn_state[IDENTITY_KEY]

    def case(self, context) -> RecoveryCase | None:
        return self.casebook(context).current
