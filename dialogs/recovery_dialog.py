"""The walkthrough as a waterfall: user, the three scoping questions, the sub-questions the leaf
needs, the plan, the steps, the ending.

Every waterfall step first records what the previous prompt returned into the case, then skips
itself when the case already holds its answer. So beginning this dialog afresh on a stored case
(after a restart, a redeploy that changed the dialogs, or `resume`) lands exactly where the admin
left off: the case, not the dialog stack, is the source of truth.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from bot.cards import progress as progress_cards
from bot.cards import walkthrough as cards
from bot.integrations import graph
from bot.integrations.graph_findings import describe
from bot.playbook import InvalidValue, Leaf, Step
from bot.support.redaction import redact
from bot.turn.replies import replace, say, show
from bot.turn.services import Services
from bot.walkthrough.case import RecoveryCase, now_iso
from bot.walkthrough.rules import (
    alternative_of,
    answer,
    complete_step,
    current_step,
    fail_step,
    leaf_of,
    missing_values,
    pending_question,
    record_values,
    set_upn,
)

from .prompts import CasePrompt
from .reminder_commands import show_plan

log = logging.getLogger(__name__)

RECOVERY_DIALOG = "recovery"
STEPS_DIALOG = "recovery.steps"
SUBQUESTIONS_DIALOG = "recovery.subquestions"
PROMPT = "recovery.prompt"
STEPS_LOOP = "recovery.steps.loop"
SUBQUESTIONS_LOOP = "recovery.subquestions.loop"
ESCALATING = "escalating"  # the steps ended in an escalation form, not an ending card


MAX_ERROR = 2000


async def replace_card(context: TurnContext, answer: dict, content: dict, case: RecoveryCase | None = None) -> None:
    """Update an answered card in place (no buttons left). Best effort: a client that cannot
    update keeps the old card, and the stale-click check still protects the case."""
    # The prompt's own card first: a click on an older copy of the same card must not leave the
    # live one with buttons. A typed answer has no replyToId.
    card_id = answer.get("card_id") or answer.get("reply_to_id")
    await replace(context, card_id, content)
    if case is not None:
        case.live_card = None  # the next question or step gets a card of its own


def failure_description(case: RecoveryCase, playbook) -> str:
    """What the escalation form is prefilled with after 'It failed': the step and the pasted error."""
    pending = case.pending_failure or {}
    leaf = leaf_of(case, playbook)
    step = leaf.step(pending.get("step", "")) if leaf else None
    if step is None:
        return ""
    error = pending.get("error", "")
    return f"Step '{step.title}' failed." + (f" Error: {error}" if error else "")


async def check_graph(services: Services, case: RecoveryCase) -> None:
    """Ask Microsoft Graph about the target user; keep the finding (or why there is none) on the case."""
    if services.graph is None:
        return
    try:
        finding = await services.graph.entra_state(case.upn)
        case.graph = {"checked_at": finding.checked_at, "entra": finding.to_dict()}
    except graph.GraphUnavailable as exc:
        log.info("Graph check failed for case %s: %s", case.id, exc)
        case.graph = {"checked_at": now_iso(), "error": str(exc)}
    case.touch()


class RecoveryDialog(ComponentDialog):
    def __init__(self, services: Services) -> None:
        super().__init__(RECOVERY_DIALOG)
        self.services = services
        playbook = services.playbook
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(SubQuestionsDialog(services))
        self.add_dialog(StepsDialog(services))
        scoping = [self._question_step(q.id) for q in playbook.questions]
        self.add_dialog(
            WaterfallDialog(
                f"{RECOVERY_DIALOG}.waterfall",
                [
                    self.ask_upn,
                    *scoping,
                    self.ask_subquestions,
                    self.show_plan,
                    self.walk_steps,
                    self.finish,
                ],
            )
        )
        self.initial_dialog_id = f"{RECOVERY_DIALOG}.waterfall"

    def case(self, step: WaterfallStepContext) -> RecoveryCase:
        return self.services.case(step.context)

    async def _record(self, step: WaterfallStepContext) -> None:
        """Apply what the previous prompt returned to the case and mark its card answered."""
        result = step.result
        if not isinstance(result, dict):
            return
        case = self.case(step)
        playbook = self.services.playbook
        if "upn" in result:
            set_upn(case, result["upn"])
            await replace_card(
                step.context,
                result,
                cards.card(
                    [
                        cards.heading("Which user's mailbox are we recovering?"),
                        cards.text(f"User: {case.upn}", weight="Bolder", color="Good"),
                    ]
                ),
                case,
            )
        elif "option" in result and step.values.get("asking"):
            asking = step.values.pop("asking")
            question = playbook.question(asking["question"])
            answer(case, playbook, question, result["option"], by=result.get("by", "admin"))
            option = question.option(result["option"])
            await replace_card(
                step.context,
                result,
                cards.question_card(question, case, playbook, answered=option.label),
                case,
            )
            if option.note:
                await say(step.context, option.note, case.id)

    async def ask_upn(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        if case.upn:
            await say(
                step.context,
                f"Case {case.id}: recovering the mailbox of {case.upn}. Type 'status' at any time to see where you are.",
                case.id,
            )
            return await step.next(None)
        return await step.begin_dialog(PROMPT, {"kind": "upn"})

    def _question_step(self, question_id: str):
        async def ask(step: WaterfallStepContext) -> DialogTurnResult:
            await self._record(step)
            case = self.case(step)
            if question_id in case.answers:
                return await step.next(None)
            if self.services.graph is not None and case.graph is None:
                await check_graph(self.services, case)
                await say(step.context, describe(case.graph), case.id)
            step.values["asking"] = {"question": question_id}
            return await step.begin_dialog(PROMPT, {"kind": "question", "question": question_id})

        ask.__name__ = f"ask_{question_id}"
        return ask

    async def ask_subquestions(self, step: WaterfallStepContext) -> DialogTurnResult:
        await self._record(step)
        return await step.begin_dialog(SUBQUESTIONS_DIALOG)

    async def show_plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if not case.steps and not case.live_card:  # the plan is shown once, before the first step
            await show_plan(step.context, self.services, case, leaf)
        return await step.next(None)

    async def walk_steps(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(STEPS_DIALOG)

    async def finish(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if not case.is_open and step.result != ESCALATING:  # escalating: the form is the last card
            await show(step.context, cards.ending_card(leaf, case, self.services.playbook), case.id)
        return await step.end_dialog(case.status)


class SubQuestionsDialog(ComponentDialog):
    """Asks the sub-questions the leaf needs before its plan (SSO/AD FS, Exchange hybrid), one
    per loop."""

    def __init__(self, services: Services) -> None:
        super().__init__(SUBQUESTIONS_DIALOG)
        self.services = services
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(WaterfallDialog(SUBQUESTIONS_LOOP, [self.ask, self.record]))
        self.initial_dialog_id = SUBQUESTIONS_LOOP

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.services.case(step.context)
        pending = pending_question(case, self.services.playbook)
        if pending is None:
            return await step.end_dialog(None)
        step.values["question"] = pending
        return await step.begin_dialog(PROMPT, {"kind": "question", "question": pending})

    async def record(self, step: WaterfallStepContext) -> DialogTurnResult:
        result = dict(step.result or {})
        result["question"] = step.values["question"]
        playbook = self.services.playbook
        case = self.services.case(step.context)
        question = playbook.question(result["question"])
        answer(case, playbook, question, result["option"])
        await replace_card(
            step.context,
            result,
            cards.question_card(question, case, playbook, answered=question.option(result["option"]).label),
            case,
        )
        return await step.replace_dialog(SUBQUESTIONS_LOOP)


class StepsDialog(ComponentDialog):
    """One step per loop: record the values a destructive step needs first, show the step card,
    apply Done, and after 'It failed' let the admin choose: try again, the documented
    alternative, or escalate with the error."""

    def __init__(self, services: Services) -> None:
        super().__init__(STEPS_DIALOG)
        self.services = services
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(WaterfallDialog(STEPS_LOOP, [self.show, self.apply]))
        self.initial_dialog_id = STEPS_LOOP

    async def show(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.services.case(step.context)
        leaf = leaf_of(case, self.services.playbook)
        current = current_step(case, leaf) if case.is_open else None
        if current is None:
            return await step.end_dialog(None)
        step.values["step"] = current.id
        if (case.pending_failure or {}).get("step") == current.id:
            kind = "failure"
        elif current.destructive and (
            current.id not in case.confirmed or missing_values(case, self.services.playbook, current.record)
        ):
            kind = "confirm"  # the gate: a destructive step is not offered until its values are recorded
        else:
            kind = "step"
        step.values["kind"] = kind
        options = {"kind": kind, "step": current.id}
        if isinstance(step.options, dict):
            options.update({k: step.options[k] for k in ("note", "silent", "card_id") if step.options.get(k)})
        return await step.begin_dialog(PROMPT, options)

    async def apply(self, step: WaterfallStepContext) -> DialogTurnResult:
        services = self.services
        playbook = services.playbook
        context = step.context
        case = services.case(context)
        leaf = leaf_of(case, playbook)
        current = leaf.step(step.values["step"])
        result = step.result or {}
        if result.get("result") == "failure":
            return await self.after_failure(step, case, leaf, current, result)
        accepted = current.record if result.get("result") == "confirm" else current.collect
        problems = record_values(case, playbook, result.get("values") or {}, accepted)
        if problems:
            return await step.replace_dialog(STEPS_LOOP, {"note": "Not saved: " + " ".join(problems)})

        if result.get("result") == "save":  # the same card again, its commands filled with the values
            await replace_card(context, result, cards.step_card(leaf, current, case, playbook))
            return await step.replace_dialog(STEPS_LOOP, {"card_id": result.get("reply_to_id") or result.get("card_id")})

        if result.get("result") == "confirm":
            missing = missing_values(case, playbook, current.record)
            if missing:
                note = f"Still missing: {', '.join(missing)}. Paste them above before this step, or escalate instead."
                return await step.replace_dialog(STEPS_LOOP, {"note": note})
            case.confirmed.append(current.id)
            case.touch()
            await replace_card(context, result, progress_cards.confirm_summary_card(leaf, current, case, playbook), case)
            return await step.replace_dialog(STEPS_LOOP)

        if result.get("result") == "failed":
            case.pending_failure = {"step": current.id, "error": ""}  # nothing is marked failed yet
            case.touch()
            return await step.replace_dialog(STEPS_LOOP)

        missing = missing_values(case, playbook, current.collect)
        if missing:
            note = f"Not done yet: paste the {' and the '.join(missing)} above (later steps use it), then press Done."
            return await step.replace_dialog(STEPS_LOOP, {"note": note})
        try:
            progress = complete_step(case, playbook, leaf, current, result.get("option"))
        except InvalidValue as exc:
            return await step.replace_dialog(STEPS_LOOP, {"note": str(exc)})
        outcome = playbook.subquestions[current.ask].option(result["option"]).label if current.ask else ""
        await replace_card(context, result, progress_cards.step_summary_card(leaf, current, case, playbook, outcome), case)
        if progress.kind in ("complete", "support"):
            return await step.end_dialog(progress.kind)
        if progress.note:
            await say(context, progress.note, case.id)
        return await step.replace_dialog(STEPS_LOOP)

    async def after_failure(
        self, step: WaterfallStepContext, case: RecoveryCase, leaf: Leaf, current: Step, result: dict
    ) -> DialogTurnResult:
        """The admin's choice on the failure card (or the error text they pasted there)."""
        context = step.context
        playbook = self.services.playbook
        pending = case.pending_failure or {"step": current.id, "error": ""}
        if result.get("error"):
            pending["error"] = redact(result["error"].strip()[: MAX_ERROR + 256])[:MAX_ERROR]  # cut, then redact
        case.pending_failure = pending
        case.touch()
        choice = result.get("choice")
        if choice == "error":
            await say(context, "Error text noted. Choose on the card above what to do next.", case.id)
            return await step.replace_dialog(STEPS_LOOP)
        if choice == "retry":
            case.pending_failure = None
            return await step.replace_dialog(STEPS_LOOP, {"note": "Trying again: run the step, then press Done."})
        alternative = alternative_of(leaf, current)
        if choice == "alternative" and alternative is None:
            return await step.replace_dialog(STEPS_LOOP, {"note": "This step has no alternative in the playbook."})
        description = failure_description(case, playbook)
        progress = fail_step(case, leaf, current, choice, pending["error"])
        if choice == "alternative":
            outcome = f"went on at '{alternative.title}', the playbook's alternative"
            await replace_card(context, result, progress_cards.step_summary_card(leaf, current, case, playbook, outcome), case)
            if progress.note:
                await say(context, progress.note, case.id)
            return await step.replace_dialog(STEPS_LOOP)
        summary = progress_cards.step_summary_card(leaf, current, case, playbook, "escalated to support with the error")
        await replace_card(context, result, summary, case)
        from .main_dialog import admin_upn  # here, not at the top: main_dialog imports this module

        identity = self.services.identity(context)
        upn = await admin_upn(context)
        contact = f"{identity.name} ({upn})" if upn and identity.name else upn or identity.name
        await show(context, self.services.escalation.form(case, contact, description), case.id)
        if progress.kind == "support":
            return await step.end_dialog(ESCALATING)
        # Stuck: the step stays current, waiting quietly behind the form ('done' still works).
        return await step.replace_dialog(STEPS_LOOP, {"silent": True})
