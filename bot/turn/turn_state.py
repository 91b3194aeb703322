"""What one turn carries besides the activity: who is talking, their case book, and what the turn
said (for the transcript). Set by the turn pipeline, read through Services; plain Python."""

from __future__ import annotations

from dataclasses import dataclass

CASEBOOK_KEY = "mailbox_recovery.casebook"
IDENTITY_KEY = "mailbox_recovery.identity"
TRANSCRIPT_KEY = "mailbox_recovery.transcript"


@dataclass(frozen=True)
class Identity:
    """Who is talking: the admin's Entra object id where Teams gives it, else the channel's user id."""

    user_id: str
    name: str
    tenant_id: str
    aad_object_id: str = ""
    conversation_id: str = ""
