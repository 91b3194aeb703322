"""What the admin says to reminders at any point of the walkthrough: `remind me in 2 hours`,
`not yet`, and the buttons of a reminder card (Continue, Remind me in 30 minutes, It is still
running); and the plan card. Called from MainDialog.interrupt; the rules live in bot.reminders.
(When a deadline's clock started is asked by the walkthrough itself: recovery_dialog.DatesDialog.)"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext, DialogTurnResult

from bot.cards import actions
from bot.cards import walkthrough as cards
from bot.cards.base import clock_time, time_zone
from bot.cards.reminders import reminder_answered_card
from bot.cards.walkthrough import minutes_words
from bot.playbook import InvalidValue, Leaf
from bot.reminders import SNOOZE_MINUTES, parse_remind_me
from bot.turn.replies import replace, say, show
from bot.turn.services import Services
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.rules import check_every, current_step

from .commands import Said

NOT_YET = "not yet"


def owner_of(context: TurnContext) -> str:
    activity = context.activity
    return f"{activity.channel_id}/{activity.from_property.id if activity.from_property else 'unknown'}"


def reference_of(context: TurnContext) -> dict[str, Any]:
    return TurnContext.get_conversation_reference(context.activity).serialize()


async def show_plan(context: TurnContext, services: Services, case: RecoveryCase, leaf: Leaf) -> None:
    """The plan; its card's id is kept so that a date given later puts "Finish before ..." on it."""
    sent = await show(context, cards.plan_card(leaf, case, services.playbook, now=services.clock.now()), case.id)
    case.plan_card_id = sent.id if sent is not None and sent.id else ""


async def handle(main, dc: DialogContext, command: str, case_id: str | None) -> DialogTurnResult | None:
    services: Services = main.services
    context = dc.context
    book = services.casebook(context)
    case = book.cases.get(case_id) if case_id else book.current
    if services.reminders is None:
        await say(context, "Reminders are not kept by this bot.")
        return None
    if case is None or not case.is_open:
        services.transcript(context).incoming_case = case.id if case else None
        await say(
            context,
            f"Case {case.id} is {case.status.replace('_', ' ')}: nothing to remind you about."
            if case
            else "You have no open recovery case; say 'start' to begin.",
        )
        return None
    services.transcript(context).incoming_case = case.id
    if command == "remind":
        try:
            delay = parse_remind_me(context.activity.text or "")
        except InvalidValue as exc:
            await say(context, str(exc), case.id)
            return None
        await _remind(services, context, case, delay, "")
        return None
    if command == NOT_YET:
        await _not_yet(services, context, case)
        return None
    click = actions.decode(context.activity.value)
    if not isinstance(click, actions.ReminderAction):
        return None
    if click.op == "not_yet":  # on the waiting step's own card, which stays as it is
        await _remind(services, context, case, timedelta(minutes=click.minutes or SNOOZE_MINUTES), "")
        return None
    # A reminder card's button: that card keeps what was chosen, not its buttons.
    chosen = {
        "continue": "Continued below.",
        "snooze": "Reminding you again later.",
        "running": "Still running: reminding you again later.",
    }
    await replace(context, context.activity.reply_to_id, reminder_answered_card(case.id, case.upn or "", chosen[click.op]))
    if click.op == "snooze":
        await _remind(services, context, case, timedelta(minutes=click.minutes or SNOOZE_MINUTES), "")
        return None
    if click.op == "running":
        minutes = _last_wait_minutes(services, case) or SNOOZE_MINUTES
        await _remind(
            services,
            context,
            case,
            timedelta(minutes=minutes),
            "Replication and restores often take longer than their usual time. If it is still running after this, "
            "check for errors with the step's command, or escalate.",
        )
        return None
    return await main.resume(dc, Said("resume", case.id))  # the live card comes again at the bottom


async def _remind(services: Services, context: TurnContext, case: RecoveryCase, delay: timedelta, why: str) -> None:
    if services.reminders is None:
        return
    leaf = services.playbook.leaves.get(case.leaf_id or "")
    step = current_step(case, leaf) if leaf else None
    due = await services.reminders.remind_in(
        case, owner_of(context), reference_of(context), delay, step.title if step else "", step.wait_check if step else ""
    )
    when = clock_time(due.isoformat(), case.time_zone)
    if due - services.clock.now() >= timedelta(hours=20):
        when = f"{due.astimezone(time_zone(case.time_zone) if case.time_zone else UTC):%d %B} {when}"
    await say(context, f"{why} I will remind you about {case.id} ({case.upn}) at {when}.".strip(), case.id)


async def _not_yet(services: Services, context: TurnContext, case: RecoveryCase) -> None:
    """'Not yet' on a step that waits: come back after the step's own interval; the step stays live."""
    leaf = services.playbook.leaves.get(case.leaf_id or "")
    step = current_step(case, leaf) if leaf else None
    if step is None or not step.wait_minutes:
        await say(context, "Nothing is waiting right now. Say 'remind me in 30 minutes' to come back to it later.", case.id)
        return
    every = check_every(step)
    await _remind(services, context, case, timedelta(minutes=every), f"Not yet: look again in {minutes_words(every)}.")


def _last_wait_minutes(services: Services, case: RecoveryCase) -> int:
    leaf = services.playbook.leaves.get(case.leaf_id or "")
    steps = [leaf.step(s) for s in case.reminded_steps] if leaf else []
    waits = [step.wait_minutes for step in steps if step is not None]
    return waits[-1] if waits else 0
