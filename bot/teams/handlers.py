"""The activity handlers. Thin: the turn pipeline (bot.turn.turn_pipeline) does access, de-duplication,
state and transcripts; these route an activity to the walkthrough or to the support side.

As FAQ Plus splits its user bot from its expert bot, the admins' personal chats and the support
team's channel have a handler each: a channel message never reaches the walkthrough, and an
admin's chat never reaches the ticket actions.
"""

from __future__ import annotations

import logging

from botbuilder.core import ActivityHandler, Bot, ConversationState, InvokeResponse, TurnContext
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.cards import actions
from bot.cards.walkthrough import welcome_card
from bot.metrics import TurnOutcome
from bot.playbook import Playbook
from bot.teams.support_handler import SupportChannelBot
from bot.turn.replies import say, show
from bot.turn.services import Services
from bot.turn.transcript_file import FILE_CONSENT_INVOKE, answer_file_consent
from bot.turn.turn_pipeline import TurnPipeline

log = logging.getLogger(__name__)
DIALOG_STACK_VERSION = 1  # bump when dialog ids or waterfall steps change: old stacks restart from the case


def is_channel(activity: Activity) -> bool:
    return bool(activity.conversation and activity.conversation.conversation_type == "channel")


def stack_does_not_fit(error: Exception) -> bool:
    """The SDK's 'a dialog with an id of ... wasn't found': a stored stack from another version."""
    return type(error) is Exception and "wasn't found" in str(error)


def describe_incoming(activity: Activity, playbook: Playbook) -> str:
    """The admin's message as the transcript writes it: typed text, or the answer a click stands for."""
    click = actions.decode(activity.value)
    if click is None:
        return activity.text or ""
    labels: dict[str, str] = {}
    if isinstance(click, actions.Answer):
        question = playbook.question(click.question)
        if question:
            labels["question"] = question.prompt
            option = question.option(click.option)
            if option:
                labels["option"] = option.label
    step_id = getattr(click, "step", None)
    step = next((leaf.step(step_id) for leaf in playbook.leaves.values() if step_id and leaf.step(step_id)), None)
    if step is not None:  # the step's title and the sub-answer's label, not their ids
        labels["step"] = step.title
        chosen = getattr(click, "option", None)
        option = playbook.subquestions[step.ask].option(chosen) if step.ask and chosen else None
        if option:
            labels["option"] = option.label
    labels.update({f"value.{name}": placeholder.label for name, placeholder in playbook.placeholders.items()})
    return actions.describe(click, labels)


def malformed_card_action(activity: Activity) -> str:
    """Why an adaptiveCard/action invoke cannot be read ('' when it can). The SDK reads
    value.action.type unguarded, so a value whose action is not an object raised (HTTP 500)."""
    if activity.type != ActivityTypes.invoke or activity.name != "adaptiveCard/action":
        return ""
    value = activity.value
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return "the invoke has no action object"
    if action.get("type") != "Action.Execute":
        return "the action is not an Action.Execute"
    if not isinstance(action.get("verb", ""), str) or not isinstance(action.get("data", {}), dict):
        return "the action's verb or data has the wrong type"
    return ""


def invoke_error(status: int, code: str, message: str) -> Activity:
    """The invoke response Teams expects for a refused card action: its error shape, as JSON."""
    body = {"statusCode": status, "type": "application/vnd.microsoft.error", "value": {"code": code, "message": message}}
    return Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))


class MailboxRecoveryBot(Bot):
    """What the adapter calls: the pipeline around the handler the conversation belongs to."""

    def __init__(self, pipeline: TurnPipeline, admins: RecoveryBot, support: SupportChannelBot) -> None:
        self.pipeline = pipeline
        self.admins = admins
        self.support = support

    async def on_turn(self, context: TurnContext) -> TurnOutcome:
        return await self.pipeline.run(context, self._route)

    async def _route(self, context: TurnContext) -> None:
        malformed = malformed_card_action(context.activity)
        if malformed:
            await context.send_activity(invoke_error(400, "BadRequest", malformed))
            return
        handler = self.support if is_channel(context.activity) else self.admins
        await handler.on_turn(context)


class RecoveryBot(ActivityHandler):
    """The admins' side: the walkthrough in their personal chat."""

    def __init__(self, services: Services, dialog: Dialog, conversation_state: ConversationState) -> None:
        self.services = services
        self.dialog = dialog
        self.dialog_state = conversation_state.create_property("DialogState")
        self.dialogs = DialogSet(self.dialog_state)
        self.dialogs.add(dialog)
        self.stack_version = conversation_state.create_property("StackVersion")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.services.transcript(turn_context).heard(describe_incoming(turn_context.activity, self.services.playbook))
        if await self.stack_version.get(turn_context, lambda: DIALOG_STACK_VERSION) != DIALOG_STACK_VERSION:
            await self._reset_stack(turn_context, "the bot was updated")
        try:
            await self._run_dialog(turn_context)
        except Exception as exc:
            if not stack_does_not_fit(exc):
                raise
            log.warning("dialog stack did not fit; restarting from the case")
            await self._reset_stack(turn_context, "the bot was updated")
            await self._run_dialog(turn_context)

    async def _run_dialog(self, turn_context: TurnContext) -> None:
        """Continue the dialog, or begin it. DialogExtensions.run_dialog does the same plus, on
        every turn, a memory-scope load and save and a state-snapshot trace activity that Teams
        drops; profiling put those at a fifth of a turn, and this bot uses neither."""
        context = await self.dialogs.create_context(turn_context)
        result = await context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await context.begin_dialog(self.dialog.id)

    async def _reset_stack(self, turn_context: TurnContext, why: str) -> None:
        await self.dialog_state.delete(turn_context)
        await self.stack_version.set(turn_context, DIALOG_STACK_VERSION)
        case = self.services.case(turn_context)
        if case is not None and case.is_open:
            await say(
                turn_context,
                f"Picking up case {case.id} ({case.upn or 'user not chosen yet'}) where you left it; {why}.",
                case.id,
            )

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Teams' file consent (the transcript file, bot.turn.transcript_file); others as the SDK does."""
        if turn_context.activity.name == FILE_CONSENT_INVOKE:
            return await answer_file_consent(turn_context, self.services)
        return await super().on_invoke_activity(turn_context)

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """handoff.status from an agent hub: record it on the ticket and tell the admin."""
        activity = turn_context.activity
        if activity.name != "handoff.status" or not isinstance(activity.value, dict):
            return
        book = self.services.casebook(turn_context)
        case = book.cases.get(str(activity.value.get("case") or "")) or book.current
        if case is None or case.ticket_id is None:
            return
        state = " ".join(str(activity.value.get("state", "unknown")).split())[:40]
        if await self.services.escalation.record_handoff_status(case.ticket_id, state) is None:
            return
        message = str(activity.value.get("message") or "")[:500]
        await say(turn_context, f"Support hub: your case {case.id} is {state}. {message}".strip(), case.id)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            book = self.services.casebook(turn_context)
            await show(turn_context, welcome_card(self.services.playbook, book.open_cases()))
