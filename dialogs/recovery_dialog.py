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

from bot import graph
from bot.cards import walkthrough as cards
from bot.case import RecoveryCase, now_iso
from bot.graph_findings import describe
from bot.playbook import InvalidValue
from bot.replies import replace, say, show
from bot.services import Services
from bot.walkthrough import (
    answer,
    complete_step,
    current_step,
    fail_step,
    leaf_of,
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


async def replace_card(context: TurnContext, answer: dict, content: dict) -> None:
    """Update an answered card in place (no buttons left). Best effort: a client that cannot
    update keeps the old card, and the stale-click check still protects the case."""
    # A click names its card (replyToId); a typed answer goes to the card the prompt sent.
    await replace(context, answer.get("reply_to_id") or answer.get("card_id"), content)


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
        scoping = [self._question_step(q.id, f"{n}/3") for n, q in enumerate(playbook.questions, start=1)]
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
            )
        elif "option" in result and step.values.get("asking"):
            asking = step.values.pop("asking")
            question = playbook.question(asking["question"])
            answer(case, playbook, question, result["option"], by=result.get("by", "admin"))
            option = question.option(result["option"])
            await replace_card(
                step.context,
                result,
                cards.question_card(question, case, playbook, asking["number"], answered=option.label),
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

    def _question_step(self, question_id: str, number: str):
        async def ask(step: WaterfallStepContext) -> DialogTurnResult:
            await self._record(step)
            case = self.case(step)
            if question_id in case.answers:
                return await step.next(None)
            if self.services.graph is not None and case.graph is None:
                await check_graph(self.services, case)
                await say(step.context, describe(case.graph), case.id)
            step.values["asking"] = {"question": question_id, "number": number}
            return await step.begin_dialog(PROMPT, {"kind": "question", "question": question_id, "number": number})

        ask.__name__ = f"ask_{question_id}"
        return ask

    async def ask_subquestions(self, step: WaterfallStepContext) -> DialogTurnResult:
        await self._record(step)
        return await step.begin_dialog(SUBQUESTIONS_DIALOG)

    async def show_plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if not case.steps:  # the plan is shown once, before the first step
            await show_plan(step.context, self.services, case, leaf)
        return await step.next(None)

    async def walk_steps(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(STEPS_DIALOG)

    async def finish(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if not case.is_open:
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
        )
        return await step.replace_dialog(SUBQUESTIONS_LOOP)


class StepsDialog(ComponentDialog):
    """One step per loop: confirm first if destructive, show the step card, apply Done / It failed."""

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
        kind = "confirm" if current.destructive and current.id not in case.confirmed else "step"
        step.values["kind"] = kind
        options = {"kind": kind, "step": current.id}
        if isinstance(step.options, dict) and step.options.get("note"):
            options["note"] = step.options["note"]
        return await step.begin_dialog(PROMPT, options)

    async def apply(self, step: WaterfallStepContext) -> DialogTurnResult:
        services = self.services
        playbook = services.playbook
        context = step.context
        case = services.case(context)
        leaf = leaf_of(case, playbook)
        current = leaf.step(step.values["step"])
        result = step.result or {}
        problems = record_values(case, playbook, result.get("values") or {})
        if problems:
            note = "Not saved: " + " ".join(problems)
            return await step.replace_dialog(STEPS_LOOP, {"note": note})

        if result.get("result") == "confirm":
            case.confirmed.append(current.id)
            case.touch()
            await replace_card(
                context,
                result,
                cards.confirm_card(leaf, current, case, playbook, answered="Recorded. Continue with the step below."),
            )
            return await step.replace_dialog(STEPS_LOOP)

        if result.get("result") == "failed":
            progress = fail_step(case, leaf, current)
            label = "It failed"
        else:
            try:
                progress = complete_step(case, playbook, leaf, current, result.get("option"))
            except InvalidValue as exc:
                return await step.replace_dialog(STEPS_LOOP, {"note": str(exc)})
            label = "Done"
            if current.ask:
                label += ": " + playbook.subquestions[current.ask].option(result["option"]).label
        await replace_card(context, result, cards.step_card(leaf, current, case, playbook, answered=label))

        if progress.kind == "stuck":
            await show(context, cards.stuck_card(current, case), case.id)
            return await step.replace_dialog(STEPS_LOOP)
        if progress.kind in ("complete", "support"):
            return await step.end_dialog(progress.kind)
        if progress.note:
            await say(context, progress.note, case.id)
        return await step.replace_dialog(STEPS_LOOP)
