"""The root dialog: commands that work at any point (the 13.core-bot CancelAndHelpDialog pattern),
then the walkthrough.

A command interrupts whatever is being asked; help, status, transcript and the dialect switch
leave the question or step where it was; start, start over and resume restart the walkthrough
on the right case, which picks up where that case stands.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.cards import actions, progress
from bot.cards import walkthrough as cards
from bot.cards.base import valid_zone
from bot.cards.support import MAX_CONTACT, MAX_DESCRIPTION, escalation_form_cancelled, escalation_form_sent
from bot.integrations.graph_findings import describe
from bot.support.escalation import EscalationRequest
from bot.turn.replies import replace, say, show
from bot.turn.services import Identity, Services
from bot.turn.transcript_file import offer_transcript
from bot.walkthrough.case import CLOSED, ESCALATED, NEEDS_SUPPORT, OPEN, RecoveryCase, TooManyOpenCases
from bot.walkthrough.deadlines import by_deadline
from bot.walkthrough.rules import answered_before_plan, current_step, step_back, take_back
from bot.walkthrough.rules import reopen as reopen_case

from . import reminder_commands
from .commands import REGISTRY, Said
from .prompts import describe_position
from .recovery_dialog import RECOVERY_DIALOG, RecoveryDialog, check_graph, failure_description

log = logging.getLogger(__name__)
MAIN_DIALOG = "main"
Handler = Callable[[DialogContext, Said], Awaitable[DialogTurnResult | None]]


class MainDialog(ComponentDialog):
    def __init__(self, services: Services) -> None:
        super().__init__(MAIN_DIALOG)
        self.services = services
        self.add_dialog(RecoveryDialog(services))
        self.initial_dialog_id = RECOVERY_DIALOG
        self.handlers: dict[str, Handler] = {
            "help": self.help,
            "start": self.start,
            "start new": self.start,
            "start over": self.start,
            "start over confirmed": self.start,
            "back": self.back,
            "change answer": self.change_answer,
            actions.ChangeAnswer.action: self.change_answer,
            "cancel": self.cancel,
            "put aside confirmed": self.cancel,
            "keep going": self.keep_going,
            "continue": self.resume,
            "resume": self.resume,
            "reopen": self.reopen,
            "status": self.status,
            "cases": self.cases,
            "cases all": self.cases,
            "transcript": self.transcript,
            "recheck": self.recheck,
            "commands modern": self.dialect,
            "commands original": self.dialect,
            "escalate": self.escalate,
            actions.EscalationSubmit.action: self.escalate,
            actions.EscalationCancel.action: self.escalate,
            "remind": self.reminders,
            "not yet": self.reminders,
            actions.ReminderAction.action: self.reminders,
        }
        unhandled = REGISTRY.names ^ set(self.handlers)
        if unhandled:  # at start-up, never in a turn
            raise RuntimeError(f"commands without a handler or registry entry: {sorted(unhandled)}")

    def note_time_zone(self, context: TurnContext) -> None:
        """Times are shown in the admin's own zone: Teams sends it on every activity."""
        case = self.services.case(context)
        activity = context.activity
        client = next((e for e in activity.entities or [] if getattr(e, "type", "") == "clientInfo"), None)
        sent = activity.local_timezone or (getattr(client, "additional_properties", None) or {}).get("timezone")
        zone = valid_zone(sent)
        if case is not None and zone and zone != case.time_zone:
            case.time_zone = zone
            case.touch()

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        self.note_time_zone(inner_dc.context)
        interrupted = await self.interrupt(inner_dc)
        if interrupted is not None:
            return interrupted
        case = self.services.case(inner_dc.context)
        if case is not None and case.is_open:
            return await inner_dc.begin_dialog(RECOVERY_DIALOG)
        book = self.services.casebook(inner_dc.context)
        await show(inner_dc.context, cards.welcome_card(self.services.playbook, [c for c in book.listed() if c.is_open]))
        return DialogTurnResult(DialogTurnStatus.Complete)

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        self.note_time_zone(inner_dc.context)
        interrupted = await self.interrupt(inner_dc)
        if interrupted is not None:
            return interrupted
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, dc: DialogContext) -> DialogTurnResult | None:
        said = REGISTRY.parse(dc.context.activity)
        if said is None:
            return None
        log.info("command %s", said.name)
        result = await self.handlers[said.name](dc, said)
        # A command that leaves the walkthrough where it is answers "waiting" while a prompt is active.
        return result or DialogTurnResult(DialogTurnStatus.Waiting if dc.stack else DialogTurnStatus.Complete)

    async def reminders(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        return await reminder_commands.handle(self, dc, said.name, said.case_id)

    async def help(self, dc: DialogContext, said: Said) -> None:
        await show(dc.context, cards.help_card(REGISTRY.help_rows()))
        if dc.stack:
            await say(dc.context, describe_position(self.services, dc.context))

    async def recheck(self, dc: DialogContext, said: Said) -> None:
        """Ask Graph again (after a restore or a sync); the current question comes back with it."""
        case = self.services.case(dc.context)
        if self.services.graph is None:
            await say(
                dc.context,
                "Microsoft Graph is not connected to this bot, so there is nothing to recheck "
                "(the README says how to connect it).",
            )
            return
        if case is None or not case.upn:
            await say(dc.context, "Choose the user first: say 'start'.")
            return
        await check_graph(self.services, case)
        await say(dc.context, describe(case.graph), case.id)
        if dc.stack:
            await dc.reprompt_dialog()

    async def cases(self, dc: DialogContext, said: Said) -> None:
        book = self.services.casebook(dc.context)
        self.services.transcript(dc.context).incoming_case = None  # about every case, part of none
        await show(dc.context, cards.cases_card(by_deadline(book.listed()), book.current_id, said.name == "cases all"))

    async def status(self, dc: DialogContext, said: Said) -> None:
        case_id = said.case_id
        book = self.services.casebook(dc.context)
        case = book.cases.get(case_id) if case_id else book.current
        if case_id and case is None:
            self.services.transcript(dc.context).incoming_case = None
            await say(dc.context, f"You have no case {case_id}.")
            return
        if case is None:
            await say(dc.context, "You have no recovery case yet; say 'start' to begin.")
            return
        self.services.transcript(dc.context).incoming_case = case.id
        await show(dc.context, cards.status_card(case, self.services.playbook, now=self.services.clock.now()), case.id)

    async def transcript(self, dc: DialogContext, said: Said) -> None:
        case_id = said.case_id
        book = self.services.casebook(dc.context)
        case = book.cases.get(case_id) if case_id else book.current
        if case is None:
            self.services.transcript(dc.context).incoming_case = None
            await say(dc.context, "You have no recovery case yet." if not case_id else f"You have no case {case_id}.")
            return
        # Showing the transcript is not part of it (it would copy itself into itself).
        self.services.transcript(dc.context).incoming_case = None
        # A file in a Teams personal chat, else one collapsed card: never a run of monospace cards.
        await offer_transcript(dc.context, self.services, case)

    async def dialect(self, dc: DialogContext, said: Said) -> None:
        dialect = said.name.split(" ", 1)[1]
        case = self.services.case(dc.context)
        if case is not None:
            case.dialect = dialect
            case.touch()
        note = (
            "From now on cards show the modern commands (Microsoft Graph PowerShell and Exchange Online PowerShell V3)."
            if dialect == "modern"
            else "From now on cards show the walkthrough's original commands. " + self.services.playbook.retired_note
        )
        await say(dc.context, note, case.id if case else None)
        if dc.stack:
            await dc.reprompt_dialog()  # the card being asked comes again in the new dialect

    async def start(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        command = said.name
        book = self.services.casebook(dc.context)
        identity = self.services.identity(dc.context)
        case = book.current
        if command == "start over" and case is not None and case.is_open and (set(case.values) - {"upn"} or case.steps):
            heading_text = f"Close case {case.id} and start again?"
            why = "A closed case can still be reopened with 'reopen'."
            await show(
                dc.context,
                progress.confirm_leaving_card(case, heading_text, why, "Close it and start over", "start over confirmed"),
                case.id,
            )
            return None
        if command == "start over confirmed":
            await replace(
                dc.context,
                dc.context.activity.reply_to_id,
                progress.choice_made_card(f"Case {case.id if case else ''}", "Closed."),
            )
            command = "start over"
        if command == "start" and case is not None and case.is_open and case.upn:
            # Never open a second case silently: ask whether to carry on with this one.
            where = describe_position(self.services, dc.context)
            await show(dc.context, progress.start_or_continue_card(case, where), case.id)
            return None
        await self.settle_choice_card(dc.context, "Started a new case.")
        if case is not None and case.is_open and not case.upn:
            new_case = case  # a case with nothing in it yet is reused rather than piling up
        else:
            if case is not None and case.is_open and command == "start over":
                case.status = CLOSED
                case.end_reason = "Closed by 'start over'."
                case.touch()
            try:
                new_case = book.start(
                    identity.aad_object_id or identity.user_id,
                    identity.name,
                    identity.tenant_id,
                    dialect=case.dialect if case else "modern",
                )
            except TooManyOpenCases as full:
                await say(
                    dc.context,
                    f"You have {full.args[0]} open recovery cases. Finish one, or close the current one with "
                    "'start over', before starting another ('cases' lists them).",
                )
                return DialogTurnResult(DialogTurnStatus.Waiting if dc.stack else DialogTurnStatus.Complete)
            if case is not None:
                why = "Closed by 'start over'." if case.status == CLOSED else "Put aside for a new case."
                await self.put_aside(dc.context, case, why)
        book.current_id = new_case.id
        await dc.cancel_all_dialogs()
        return await dc.begin_dialog(RECOVERY_DIALOG)

    # --- steering: back, change an answer, cancel ----------------------------------------------

    def steerable(self, dc: DialogContext) -> RecoveryCase | None:
        case = self.services.case(dc.context)
        return case if case is not None and case.is_open and case.upn else None

    async def restart_walkthrough(self, dc: DialogContext, case: RecoveryCase, said: str) -> DialogTurnResult:
        """The case was moved back: the card in the chat retires and the walkthrough picks up from the case."""
        await self.services.live.retire(dc.context, case, said)
        await say(dc.context, said, case.id)
        await dc.cancel_all_dialogs()
        return await dc.begin_dialog(RECOVERY_DIALOG)

    async def back(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        case = self.steerable(dc)
        if case is None:
            await say(dc.context, "There is nothing to go back to: " + describe_position(self.services, dc.context))
            return None
        playbook = self.services.playbook
        reopened = step_back(case, playbook)
        if reopened is not None:
            return await self.restart_walkthrough(
                dc, case, f"Back to the step '{reopened.title}': the values it recorded are kept."
            )
        answered = answered_before_plan(case, playbook)
        if answered:
            question = playbook.question(answered[-1])
            take_back(case, playbook, answered[-1])
            return await self.restart_walkthrough(dc, case, f"Back to the question: {question.prompt if question else ''}")
        case.upn = None
        case.values.pop("upn", None)
        case.touch()
        return await self.restart_walkthrough(dc, case, "Back to the first question: which user's mailbox.")

    async def change_answer(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        case = self.steerable(dc)
        playbook = self.services.playbook
        if case is not None and said.case_id and said.case_id != case.id:  # a card of a case put aside
            await say(
                dc.context, f"That card is from case {said.case_id}. Say 'resume {said.case_id}' first, then change its answer."
            )
            return None
        answered = answered_before_plan(case, playbook) if case else []
        if case is None or not answered:
            await say(dc.context, "No answer to change yet. " + describe_position(self.services, dc.context))
            return None
        click = actions.decode(dc.context.activity.value)
        if not isinstance(click, actions.ChangeAnswer):
            await show(dc.context, progress.change_answer_card(case, playbook, answered), case.id)
            return None
        if click.question not in answered or click.case != case.id:
            await say(dc.context, "That answer cannot be changed now. " + describe_position(self.services, dc.context), case.id)
            return None
        question = playbook.question(click.question)
        await replace(
            dc.context,
            dc.context.activity.reply_to_id,
            progress.choice_made_card("Change which answer?", f"Changing: {question.prompt if question else ''}"),
        )
        take_back(case, playbook, click.question)
        return await self.restart_walkthrough(dc, case, f"Answer it again: {question.prompt if question else ''}")

    async def keep_going(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        """'Keep going' on the card that asked before closing or putting a case aside: that card
        says so and loses its buttons, and the case carries on where it was."""
        case = self.services.case(dc.context)
        where = f"Case {said.case_id}" if said.case_id else "The case"
        await replace(dc.context, dc.context.activity.reply_to_id, progress.choice_made_card(where, "Kept going."))
        if case is not None and case.id == said.case_id and dc.stack:
            await dc.reprompt_dialog()  # its card comes again at the bottom
            return None
        return await self.resume(dc, Said("resume", said.case_id))

    async def cancel(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        book = self.services.casebook(dc.context)
        case = book.current
        if case is None or not case.is_open:
            await say(dc.context, "Nothing to cancel: you have no recovery in progress. Say 'start' to begin one.")
            return None
        if said.name == "cancel" and (set(case.values) - {"upn"} or case.steps):
            heading_text = f"Put case {case.id} aside?"
            why = "Nothing is lost: 'resume' brings it back where it stopped."
            await show(
                dc.context, progress.confirm_leaving_card(case, heading_text, why, "Put it aside", "put aside confirmed"), case.id
            )
            return None
        if said.name == "put aside confirmed":
            if said.case_id != case.id:  # a card of another case, or one answered already
                await say(dc.context, f"That card is no longer current. {describe_position(self.services, dc.context)}")
                return None
            await replace(dc.context, dc.context.activity.reply_to_id, progress.choice_made_card(f"Case {case.id}", "Put aside."))
        await self.put_aside(dc.context, case, f"Put aside. Say 'resume {case.id}' to continue it.")
        book.current_id = None
        await say(
            dc.context,
            f"Case {case.id} is put aside, nothing lost. Say 'resume {case.id}' to continue it, or 'start' for a new case.",
            case.id,
        )
        await dc.cancel_all_dialogs()
        return DialogTurnResult(DialogTurnStatus.Complete)

    async def put_aside(self, context: TurnContext, case: RecoveryCase, why: str) -> None:
        """The case is no longer current: its live card loses its buttons (one live card, in one case)."""
        await self.services.live.put_aside(context, case, why)

    async def settle_choice_card(self, context: TurnContext, made: str) -> None:
        """A click on the 'continue or start a new one' card: that card now says what was chosen."""
        click = actions.decode(context.activity.value)
        if isinstance(click, actions.Command) and click.command in ("start new", "continue"):
            settled = progress.choice_made_card("You have a recovery in progress", made)
            await replace(context, context.activity.reply_to_id, settled)

    async def switch_to(self, dc: DialogContext, target: RecoveryCase) -> DialogTurnResult:
        """Make `target` the current case and walk on from where it stands, saying so."""
        book = self.services.casebook(dc.context)
        previous = book.current
        if previous is not None and previous is not target:
            await self.put_aside(dc.context, previous, f"Put aside: you switched to case {target.id}.")
            await say(dc.context, f"Switched to case {target.id} for {target.upn or 'a user not chosen yet'}.", target.id)
        book.current_id = target.id
        await dc.cancel_all_dialogs()
        return await dc.begin_dialog(RECOVERY_DIALOG)

    async def resume(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        case_id, command = said.case_id, said.name
        book = self.services.casebook(dc.context)
        context = dc.context
        case = book.current
        if case_id:
            target = book.cases.get(case_id)
        else:
            newest = next(iter(book.open_cases()), None)
            # The current case, open or ended needing support (it can be reopened), else the newest open one.
            current_counts = case is not None and (case.is_open or case.status == NEEDS_SUPPORT)
            target = case if current_counts else book.cases.get(newest.id) if newest else None
        if target is not None and target.status == ESCALATED and self.has_steps_left(target):
            target.status = OPEN  # escalated mid-way and told to carry on: the ticket stays
            target.touch()
        if target is not None and target.status in (CLOSED, NEEDS_SUPPORT):
            self.services.transcript(context).incoming_case = target.id
            await show(context, progress.reopen_card(target), target.id)
            return None
        if target is None or not target.is_open:
            self.services.transcript(context).incoming_case = None
            if case_id:
                await say(context, f"There is no open case {case_id}.")
            await show(context, cards.cases_card(book.recent(), book.current_id))
            return None
        if command == "continue":
            await self.settle_choice_card(context, f"Continued case {target.id}.")
        if not case_id and len(book.open_cases()) > 1:
            await show(context, cards.cases_card(book.recent(), target.id))
        return await self.switch_to(dc, target)

    async def reopen(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        """Reopen a case closed by 'start over': it carries on where it stopped."""
        case_id = said.case_id
        book = self.services.casebook(dc.context)
        target = book.cases.get(case_id) if case_id else None
        if target is None or target.status not in (CLOSED, NEEDS_SUPPORT):
            self.services.transcript(dc.context).incoming_case = None
            await say(dc.context, f"There is no closed case {case_id} to reopen." if case_id else "Say 'reopen MR-XXXXXXXX'.")
            return None
        reopen_case(target, self.services.playbook)
        self.services.transcript(dc.context).incoming_case = target.id
        click = actions.decode(dc.context.activity.value)
        if isinstance(click, actions.Command) and click.command == "reopen":
            settled = progress.choice_made_card(f"Case {target.id}", "Reopened.")
            await replace(dc.context, dc.context.activity.reply_to_id, settled)
        await say(dc.context, f"Reopened case {target.id} for {target.upn or 'a user not chosen yet'}.", target.id)
        return await self.switch_to(dc, target)

    async def contact_of(self, context: TurnContext, identity: Identity, upn: str) -> str:
        """The admin's Teams identity, to prefill how support can reach them."""
        return f"{identity.name} ({upn})" if upn and identity.name else upn or identity.name

    def has_steps_left(self, case) -> bool:
        leaf = self.services.playbook.leaves.get(case.leaf_id or "")
        return leaf is None or current_step(case, leaf) is not None

    async def escalate(self, dc: DialogContext, said: Said) -> DialogTurnResult | None:
        command, case_id = said.name, said.case_id
        services = self.services
        context = dc.context
        book = services.casebook(context)
        identity = services.identity(context)
        target = book.cases.get(case_id) if case_id else book.current
        if target is None:
            await say(
                context,
                "There is no case to escalate yet. Say 'start' first, or describe the problem to your support team directly.",
            )
            return None
        services.transcript(context).incoming_case = target.id
        if command == "escalate":
            upn = await admin_upn(context)
            contact = await self.contact_of(context, identity, upn)
            # After 'It failed' the pasted error goes with the ticket even when 'escalate' is typed.
            description = failure_description(target, services.playbook) if target.pending_failure else ""
            await show(context, services.escalation.form(target, contact, description), target.id)
            return None
        if command == "escalation_cancel":
            await replace(context, context.activity.reply_to_id, escalation_form_cancelled(target.id))
            await say(context, "Not escalated. " + describe_position(services, context), target.id)
            if dc.stack:
                await dc.reprompt_dialog()  # the current question or step, with its buttons
            return None
        click = actions.decode(context.activity.value)
        form = click if isinstance(click, actions.EscalationSubmit) else actions.EscalationSubmit(target.id)
        too_long = [
            f"{label} is {len(value):,} characters long; at most {limit:,} fit"
            for label, value, limit in (
                ("What went wrong", form.description, MAX_DESCRIPTION),
                ("Contact", form.contact, MAX_CONTACT),
            )
            if len(value) > limit
        ]
        if too_long:
            await say(context, f"Not sent: {'; '.join(too_long)}. Shorten it and press Send to support again.", target.id)
            return None
        admin = {
            "name": identity.name,
            "upn": await admin_upn(context),
            "aad_object_id": identity.aad_object_id,
            "user_id": identity.user_id,
            "conversation_id": identity.conversation_id,
        }
        result = await services.escalation.escalate(
            EscalationRequest(
                target,
                admin,
                form.description,
                form.contact,
                form.form,
                context.activity.id or "",
                TurnContext.get_conversation_reference(context.activity).serialize(),
            )
        )
        if result.outcome in ("already_sent", "over_quota", "refused"):  # nothing was sent: one line says why
            await say(context, result.note, target.id)
            return None
        await replace(context, context.activity.reply_to_id, escalation_form_sent(target.id, now_of(result)))
        if result.handoff is not None:
            await context.send_activity(handoff_event(result.handoff))
        for content in result.cards:
            await show(context, content, target.id)
        if result.forward:  # the ticket card above, and the transcript: a file, else one collapsed card
            await offer_transcript(context, services, target)
        if target is book.current and not target.is_open:  # escalated: this walkthrough ends here
            await dc.cancel_all_dialogs()
            return DialogTurnResult(DialogTurnStatus.Complete)
        return None


def now_of(result) -> str:
    """When the ticket was (first) created: what the sent form shows."""
    return result.ticket.created_at if result.ticket else ""


def handoff_event(handoff: dict) -> Activity:
    transcript = Attachment(content_type="application/json", name="Transcript", content=handoff["transcript"])
    return Activity(type=ActivityTypes.event, name="handoff.initiate", value=handoff["value"], attachments=[transcript])


async def admin_upn(context: TurnContext) -> str:
    """The admin's UPN from Teams (for support's "Chat with the admin"); empty where unknown."""
    sender = context.activity.from_property
    if context.activity.channel_id != "msteams" or sender is None:
        return ""
    try:
        member = await TeamsInfo.get_member(context, sender.id)
    except Exception:  # noqa: BLE001 - a nicety: the ticket goes without the chat link
        log.info("could not read the admin's UPN from Teams")
        return ""
    return getattr(member, "user_principal_name", "") or getattr(member, "email", "") or ""
