"""Giving the admin a case's transcript: as a file in a Teams personal chat, else one collapsed card.

In a personal chat on Teams (and where files are offered at all: Services.uploader) the bot sends
Teams' file consent card for `transcript-<case>.txt`. Its context carries the case number only,
never the transcript. Teams answers with a `fileConsent/invoke`:

- accept: the case is looked up in the clicking admin's own cases (the owner check `transcript`
  makes: another admin's case number finds nothing, and nothing is uploaded), its transcript is
  read from the store afresh, PUT to the `uploadInfo.uploadUrl` Teams gave (bot.hosting.file_upload
  says which addresses are allowed), and the file info card is sent; the invoke is answered 200.
- decline, or an upload refused or failed: ONE collapsed card (Action.ShowCard) with the
  transcript, saying the file was not sent.

Elsewhere (the Agents Playground, the emulator, group chats) the collapsed card comes at once.
A replayed invoke is ignored by the ledger (and answered 200 by the pipeline); a turn re-run on
fresh state does not upload twice (the uploader remembers the activity).
"""

from __future__ import annotations

import logging

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Attachment
from botbuilder.schema.teams import FileConsentCard, FileInfoCard

from bot.hosting.file_upload import UploadFailed, UploadRefused
from bot.hosting.logfields import log_field
from bot.support.transcript_file import FILE_TYPE, TranscriptFile
from bot.turn.replies import say, show
from bot.turn.services import Services
from bot.walkthrough.case import RecoveryCase, is_case_id

log = logging.getLogger(__name__)
FILE_CONSENT_INVOKE = "fileConsent/invoke"
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
DECLINED = (
    "You declined the file, so it was not sent. The transcript is here instead: press Show the transcript to read or copy it."
)
NOT_UPLOADED = (
    "The transcript file could not be uploaded, so it was not sent. The transcript is here instead: press Show "
    "the transcript to read or copy it, or say 'transcript' to be offered the file again."
)
NO_FILES_HERE = "Files cannot be sent in this chat, so the transcript is here: press Show the transcript to read or copy it."


def files_possible(context: TurnContext, services: Services) -> bool:
    """Teams' file consent works in a personal chat on Teams only, and where files are offered."""
    activity = context.activity
    conversation = activity.conversation
    return (
        services.uploader is not None
        and activity.channel_id == "msteams"
        and conversation is not None
        and conversation.conversation_type == "personal"
    )


def consent_activity(file: TranscriptFile):
    context = {"case": file.case_id}  # the case number only: the accept reads the transcript from the store
    card = FileConsentCard(
        description=f"The transcript of case {file.case_id}, secrets redacted, to save or forward to your support team.",
        size_in_bytes=file.size,
        accept_context=context,
        decline_context=context,
    )
    return MessageFactory.attachment(Attachment(content_type=CONSENT_CARD, name=file.name, content=card))


async def offer_transcript(context: TurnContext, services: Services, case: RecoveryCase) -> None:
    """The transcript for the admin: the file consent card where Teams can take a file, else one collapsed card."""
    if not files_possible(context, services):
        await show(context, await services.escalation.transcript_card(case, NO_FILES_HERE), case.id)
        return
    file = await services.escalation.transcript_file(case)
    await context.send_activity(consent_activity(file))
    services.transcript(context).said(case.id, f"[file offered] {file.name} ({file.size:,} bytes)")


def answer(status: int, message: str = "") -> InvokeResponse:
    if status == 200:
        return InvokeResponse(status=200)
    body = {"code": "BadRequest" if status == 400 else "Forbidden", "message": message}
    return InvokeResponse(status=status, body={"error": body})


async def answer_file_consent(context: TurnContext, services: Services) -> InvokeResponse:
    """A `fileConsent/invoke`: accept (upload, then the file info card) or decline (the collapsed card)."""
    activity = context.activity
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    consent = value.get("context")
    case_id = consent.get("case") if isinstance(consent, dict) else None
    turn = services.transcript(context)
    turn.incoming_case = None  # nothing of this invoke goes to a transcript unless it is the admin's case
    if action not in ("accept", "decline") or not isinstance(case_id, str) or not is_case_id(case_id):
        return answer(400, "not a file consent this bot sent")
    case = services.casebook(context).cases.get(case_id)
    if case is None:  # not one of the clicking admin's cases (the owner check 'transcript' makes)
        log.warning("file consent for a case that is not the sender's, activity %s: refused", log_field(activity.id))
        await say(context, "That file is not from one of your cases; nothing was uploaded.")
        return answer(403, "not your case")
    turn.heard(f"[transcript file] {'accepted' if action == 'accept' else 'declined'}")
    turn.incoming_case = case.id
    if action == "decline":
        await show(context, await services.escalation.transcript_card(case, DECLINED), case.id)
        return answer(200)
    given = value.get("uploadInfo")
    info: dict = given if isinstance(given, dict) else {}
    file = await services.escalation.transcript_file(case)
    try:
        if services.uploader is None:
            raise UploadRefused("files are not offered here")
        conversation = activity.conversation.id if activity.conversation else ""
        once = (conversation, activity.id) if activity.id else None
        await services.uploader.upload(str(info.get("uploadUrl") or ""), file.data, once_per=once)
    except (UploadRefused, UploadFailed):
        await show(context, await services.escalation.transcript_card(case, NOT_UPLOADED), case.id)
        return answer(200)
    name = info.get("name") if isinstance(info.get("name"), str) and info.get("name") else file.name
    card = FileInfoCard(
        unique_id=str(info.get("uniqueId") or ""),
        file_type=str(info.get("fileType") or FILE_TYPE),
    )
    content_url = info.get("contentUrl") if isinstance(info.get("contentUrl"), str) else None
    await context.send_activity(
        MessageFactory.attachment(Attachment(content_type=FILE_INFO_CARD, name=name, content_url=content_url, content=card))
    )
    turn.said(case.id, f"[file sent] {file.name} ({file.size:,} bytes)")
    return answer(200)
