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

from bot.cards import diagnostics as diagnostic_cards
from bot.cards import progress as progress_cards
from bot.cards import walkthrough as cards
from bot.cards.reminders import deadline_question_card
from bot.diagnostics.apply import apply as apply_reading
from bot.diagnostics.assess import assess
from bot.diagnostics.errors import match_error
from bot.diagnostics.reading import PLACE_NAMES, merge, read_paste
from bot.diagnostics.verify import verify
from bot.integrations import graph
from bot.integrations.graph_findings import describe
from bot.playbook import InvalidValue, Leaf, Step
from bot.support.redaction import redact
from bot.turn.replies import replace, say, show
from bot.turn.services import Services
from bot.walkthrough.case import RecoveryCase, now_iso
from bot.walkthrough.deadlines import KINDS, finish_before, record_start, to_ask_now
from bot.walkthrough.rules import (
    alternative_of,
    answer,
    changed_plan,
    complete_step,
    current_step,
    fail_step,
    gives_up,
    leaf_of,
    missing_values,
    needed_for_done,
    pending_question,
    plan_titles,
    record_values,
    set_upn,
    wait_left,
)

from .prompts import (
    CasePrompt,
    DateAnswer,
    DiagnosticAnswer,
    FailureAnswer,
    OptionAnswer,
    PasteAnswer,
    PromptRequest,
    PromptResult,
    StepAnswer,
    UpnAnswer,
)
from .reminder_commands import show_plan

log = logging.getLogger(__name__)

RECOVERY_DIALOG = "recovery"
STEPS_DIALOG = "recovery.steps"
SUBQUESTIONS_DIALOG = "recovery.subquestions"
DATES_DIALOG = "recovery.dates"
DATES_LOOP = "recovery.dates.loop"
PROMPT = "recovery.prompt"
STEPS_LOOP = "recovery.steps.loop"
SUBQUESTIONS_LOOP = "recovery.subquestions.loop"
DIAGNOSE_DIALOG = "recovery.diagnose"
DIAGNOSE_LOOP = "recovery.diagnose.loop"
NO_MARKER = (
    "I found no diagnostic line in that message. Run the scripts on the card and paste what they print "
    "(the whole window is fine), or choose 'I'd rather answer the questions'."
)
ESCALATING = "escalating"  # the steps ended in an escalation form, not an ending card


MAX_ERROR = 2000


def again(note: str = "", silent: bool = False) -> dict[str, object]:
    """Options for the next round of the steps loop (kept on the dialog stack as plain JSON)."""
    return {"note": note, "silent": silent}


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
    if services.graph is None or not case.upn:
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
        self.add_dialog(DatesDialog(services))
        self.add_dialog(StepsDialog(services))
        self.add_dialog(DiagnoseDialog(services))
        scoping = [self._question_step(q.id) for q in playbook.questions]
        self.add_dialog(
            WaterfallDialog(
                f"{RECOVERY_DIALOG}.waterfall",
                [
                    self.ask_upn,
                    self.diagnose,
                    *scoping,
                    self.ask_subquestions,
                    self.ask_dates,
                    self.show_plan,
                    self.walk_steps,
                    self.finish,
                ],
            )
        )
        self.initial_dialog_id = f"{RECOVERY_DIALOG}.waterfall"

    def case(self, step: WaterfallStepContext) -> RecoveryCase:
        return self.services.current(step.context)

    async def _record(self, step: WaterfallStepContext) -> None:
        """Apply what the previous prompt returned to the case and mark its card answered."""
        result = step.result
        if not isinstance(result, PromptResult):
            return
        case = self.case(step)
        if isinstance(result.answer, UpnAnswer):
            set_upn(case, result.answer.upn)
            summary = cards.card(
                [
                    cards.heading("Which user's mailbox are we recovering?"),
                    cards.text(f"User: {case.upn}", weight="Bolder", color="Good"),
                ]
            )
            await self.services.live.answered(step.context, case, summary, result.clicked)
        elif isinstance(result.answer, OptionAnswer) and step.values.get("asking"):
            asking = step.values.pop("asking")
            await record_option(self.services, step.context, case, asking["question"], result)

    async def ask_upn(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        if case.upn:
            await say(
                step.context,
                f"Case {case.id}: recovering the mailbox of {case.upn}. Type 'status' at any time to see where you are.",
                case.id,
            )
            return await step.next(None)
        return await step.begin_dialog(PROMPT, PromptRequest("upn"))

    async def diagnose(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Offer the read-only diagnostics (issue 22) once the user is known; the questions stay
        as the way without a paste."""
        await self._record(step)
        case = self.case(step)
        if not self.services.diagnostics or case.scoping or any(q.id in case.answers for q in self.services.playbook.questions):
            return await step.next(None)
        return await step.begin_dialog(DIAGNOSE_DIALOG)

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
            return await step.begin_dialog(PROMPT, PromptRequest("question", question=question_id))

        ask.__name__ = f"ask_{question_id}"
        return ask

    async def ask_dates(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(DATES_DIALOG)

    async def ask_subquestions(self, step: WaterfallStepContext) -> DialogTurnResult:
        await self._record(step)
        return await step.begin_dialog(SUBQUESTIONS_DIALOG)

    async def show_plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if leaf is None:
            return await step.next(None)
        if case.replan is not None:  # an answer was changed: the new plan, and what changed
            before, case.replan = case.replan, None
            await show_plan(step.context, self.services, case, leaf)
            await say(step.context, changed_plan(before, plan_titles(case, self.services.playbook)), case.id)
        elif not case.steps and not case.live_card:  # the plan is shown once, before the first step
            await show_plan(step.context, self.services, case, leaf)
        return await step.next(None)

    async def walk_steps(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(STEPS_DIALOG)

    async def finish(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.case(step)
        leaf = leaf_of(case, self.services.playbook)
        if leaf is not None and not case.is_open and step.result != ESCALATING:  # escalating: the form is the last card
            await show(step.context, cards.ending_card(leaf, case, self.services.playbook), case.id)
        return await step.end_dialog(case.status)


class DiagnoseDialog(ComponentDialog):
    """The diagnostic card, then each paste read and merged into the case, until the admin
    confirms what was read (or prefers the questions)."""

    def __init__(self, services: Services) -> None:
        super().__init__(DIAGNOSE_DIALOG)
        self.services = services
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(WaterfallDialog(DIAGNOSE_LOOP, [self.ask, self.handle]))
        self.initial_dialog_id = DIAGNOSE_LOOP

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.services.current(step.context)
        if case.scoping:
            return await step.end_dialog(None)
        if self.services.graph is not None and case.graph is None:
            await check_graph(self.services, case)  # today's detection, merged with the pastes
        return await step.begin_dialog(PROMPT, PromptRequest("diagnostic"))

    async def handle(self, step: WaterfallStepContext) -> DialogTurnResult:
        services = self.services
        context = step.context
        case = services.current(context)
        playbook = services.playbook
        result = step.result
        answer = result.answer if isinstance(result, PromptResult) else None
        if isinstance(answer, PasteAnswer):
            reading = read_paste(answer.text, upn=case.upn or "", now=services.clock.now(), tenant_id=case.tenant_id)
            if not reading.found and not reading.problems:
                entry = match_error(answer.text)
                if entry is not None:
                    await show(context, diagnostic_cards.error_card(entry, case.id), case.id)
                else:
                    await say(context, NO_MARKER, case.id)
                return await step.replace_dialog(DIAGNOSE_LOOP)
            case.evidence, notes = merge(case.evidence, reading)
            case.touch()
            said = [p.message for p in reading.problems] + notes
            if said:
                await say(context, " ".join(said), case.id)
            return await step.replace_dialog(DIAGNOSE_LOOP)
        if not isinstance(answer, DiagnosticAnswer):
            return await step.replace_dialog(DIAGNOSE_LOOP)
        found = assess(case.evidence, playbook, case.graph, services.clock.now())
        if answer.op in ("questions", "wrong"):
            case.scoping = "questions"
            case.touch()
            why = "You chose to answer the questions." if answer.op == "questions" else "Not right: you answer the questions."
            summary = diagnostic_cards.reading_card(case, found, playbook, answered=why)
            await services.live.answered(context, case, summary, result.clicked)
            return await step.end_dialog(None)
        if answer.exchange_guid and any(c.exchange_guid == answer.exchange_guid for c in found.candidates):
            case.evidence["choice"] = {"exchange_guid": answer.exchange_guid}
            found = assess(case.evidence, playbook, case.graph, services.clock.now())
        if found.candidates:
            await say(context, "Choose the mailbox to recover on the card first.", case.id)
            return await step.replace_dialog(DIAGNOSE_LOOP)
        if found.leaf_id is None and not found.disagreements:
            missing = " and the ".join(PLACE_NAMES[p] for p in found.missing) or "a diagnostic"
            await say(context, f"I cannot tell the scenario yet: paste the {missing} output, or answer the questions.", case.id)
            return await step.replace_dialog(DIAGNOSE_LOOP)
        apply_reading(case, found, playbook, answer.mail_for or None)
        await services.live.answered(
            context, case, diagnostic_cards.reading_card(case, found, playbook, answered="Confirmed."), result.clicked
        )
        return await step.end_dialog(None)


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
        case = self.services.current(step.context)
        pending = pending_question(case, self.services.playbook)
        if pending is None:
            return await step.end_dialog(None)
        step.values["question"] = pending
        return await step.begin_dialog(PROMPT, PromptRequest("question", question=pending))

    async def record(self, step: WaterfallStepContext) -> DialogTurnResult:
        if isinstance(step.result, PromptResult):
            case = self.services.current(step.context)
            await record_option(self.services, step.context, case, step.values["question"], step.result)
        return await step.replace_dialog(SUBQUESTIONS_LOOP)


class DatesDialog(ComponentDialog):
    """When each 30-day clock started, where the bot cannot know it: asked one at a time, before
    the plan, or after the Exchange Online connect step for a date read with a command."""

    def __init__(self, services: Services) -> None:
        super().__init__(DATES_DIALOG)
        self.services = services
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(WaterfallDialog(DATES_LOOP, [self.ask, self.record]))
        self.initial_dialog_id = DATES_LOOP

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.services.current(step.context)
        kinds = to_ask_now(case, self.services.playbook)
        if not kinds:
            return await step.end_dialog(None)
        step.values["kind"] = kinds[0].id
        loop = step.options if isinstance(step.options, dict) else {}
        return await step.begin_dialog(PROMPT, PromptRequest("deadline", question=kinds[0].id, note=str(loop.get("note") or "")))

    async def record(self, step: WaterfallStepContext) -> DialogTurnResult:
        services = self.services
        context = step.context
        case = services.current(context)
        result = step.result
        if not isinstance(result, PromptResult) or not isinstance(result.answer, DateAnswer):
            return await step.replace_dialog(DATES_LOOP)
        kind = KINDS[step.values["kind"]]
        now = services.clock.now()
        try:
            answered = record_start(case, kind, result.answer.date, result.answer.unknown, now)
        except InvalidValue as exc:
            return await step.replace_dialog(DATES_LOOP, again(str(exc)))
        summary = deadline_question_card(case.id, kind, case.upn or "", answered)
        await services.live.answered(context, case, summary, result.clicked)
        line = finish_before(case, now)
        leaf = leaf_of(case, services.playbook)
        if line and leaf is not None and case.plan_card_id:  # asked after the plan: the plan says it too
            await say(context, line, case.id)
            await replace(context, case.plan_card_id, cards.plan_card(leaf, case, services.playbook, now=now))
        return await step.replace_dialog(DATES_LOOP)


class StepsDialog(ComponentDialog):
    """One step per loop: record the values a destructive step needs first, show the step card,
    apply Done, and after 'It failed' let the admin choose: try again, the documented
    alternative, or escalate with the error."""

    def __init__(self, services: Services) -> None:
        super().__init__(STEPS_DIALOG)
        self.services = services
        self.add_dialog(CasePrompt(PROMPT, services))
        self.add_dialog(DatesDialog(services))
        self.add_dialog(WaterfallDialog(STEPS_LOOP, [self.show, self.apply]))
        self.initial_dialog_id = STEPS_LOOP

    async def show(self, step: WaterfallStepContext) -> DialogTurnResult:
        case = self.services.current(step.context)
        leaf = leaf_of(case, self.services.playbook)
        current = current_step(case, leaf) if leaf is not None and case.is_open else None
        if current is None:
            return await step.end_dialog(None)
        if to_ask_now(case, self.services.playbook):  # a date read with a command, now that Exchange is connected
            return await step.begin_dialog(DATES_DIALOG)
        step.values["step"] = current.id
        if (case.pending_failure or {}).get("step") == current.id:
            kind = "failure"
        elif current.destructive and (
            current.id not in case.confirmed or missing_values(case, self.services.playbook, current.record)
        ):
            kind = "confirm"  # the gate: a destructive step is not offered until its values are recorded
        else:
            kind = "step"
            case.step_shown.setdefault(current.id, self.services.clock.now().isoformat(timespec="milliseconds"))
        step.values["kind"] = kind
        loop = step.options if isinstance(step.options, dict) else {}
        request = PromptRequest(kind, step=current.id, note=str(loop.get("note") or ""), silent=bool(loop.get("silent")))
        return await step.begin_dialog(PROMPT, request)

    async def apply(self, step: WaterfallStepContext) -> DialogTurnResult:
        services = self.services
        playbook = services.playbook
        context = step.context
        case = services.current(context)
        leaf = leaf_of(case, playbook)
        # No step when this round asked a date instead (DatesDialog): the loop goes on.
        current = leaf.step(step.values.get("step", "")) if leaf is not None else None
        result = step.result
        if leaf is None or current is None or not isinstance(result, PromptResult):
            return await step.replace_dialog(STEPS_LOOP)
        answer = result.answer
        if isinstance(answer, FailureAnswer):
            return await self.after_failure(step, case, leaf, current, answer, result.clicked)
        if isinstance(answer, PasteAnswer):
            verdict_answer = await self.verify_paste(context, case, current, answer.text)
            if verdict_answer is None:
                return await step.replace_dialog(STEPS_LOOP)
            answer = verdict_answer
        if not isinstance(answer, StepAnswer):
            return await step.replace_dialog(STEPS_LOOP)
        accepted = current.record if answer.result == "confirm" else current.collect
        problems = record_values(case, playbook, answer.values, accepted)
        if problems:
            return await step.replace_dialog(STEPS_LOOP, again("Not saved: " + " ".join(problems)))

        if answer.result == "save":  # the same card again, at the bottom, its commands filled with the values
            return await step.replace_dialog(STEPS_LOOP, again("Saved: the commands below have your values filled in."))

        if answer.result == "confirm":
            missing = missing_values(case, playbook, current.record)
            if missing:
                note = f"Still missing: {', '.join(missing)}. Fill them in on this card before this step, or escalate instead."
                return await step.replace_dialog(STEPS_LOOP, again(note))
            case.confirmed.append(current.id)
            case.touch()
            summary = progress_cards.confirm_summary_card(leaf, current, case, playbook)
            await services.live.answered(context, case, summary, result.clicked)
            return await step.replace_dialog(STEPS_LOOP)

        if answer.result == "failed":  # nothing is marked failed yet: the admin chooses what next
            error = redact(answer.error[: MAX_ERROR + 256])[:MAX_ERROR] if answer.error else ""
            case.pending_failure = {"step": current.id, "error": error}
            case.touch()
            entry = match_error(answer.error) if answer.error else None
            if entry is not None:
                await show(context, diagnostic_cards.error_card(entry, case.id), case.id)
            return await step.replace_dialog(STEPS_LOOP)

        missing = missing_values(case, playbook, needed_for_done(leaf, current))
        if missing:
            note = f"Not done yet: fill in the {' and the '.join(missing)} on this card (later steps use it), then press Done."
            return await step.replace_dialog(STEPS_LOOP, again(note))
        try:
            progress = complete_step(case, playbook, leaf, current, answer.option)
        except InvalidValue as exc:
            return await step.replace_dialog(STEPS_LOOP, again(str(exc)))
        outcome = ""
        if current.ask and answer.option:
            chosen = playbook.subquestions[current.ask].option(answer.option)
            outcome = chosen.label if chosen else ""
        good = not gives_up(playbook, current, answer.option)
        summary = progress_cards.step_summary_card(leaf, current, case, playbook, outcome, good)
        await services.live.answered(context, case, summary, result.clicked)
        if progress.kind in ("complete", "support"):
            return await step.end_dialog(progress.kind)
        if progress.note:
            await say(context, progress.note, case.id)
        return await step.replace_dialog(STEPS_LOOP)

    async def verify_paste(self, context: TurnContext, case: RecoveryCase, current: Step, text: str) -> StepAnswer | None:
        """A diagnostic pasted on a step: merged, and where the step asks whether it worked, the
        answer read from it (said, with the fact). None: nothing to answer, the card comes back."""
        services = self.services
        reading = read_paste(text, upn=case.upn or "", now=services.clock.now(), tenant_id=case.tenant_id)
        if reading.problems:
            await say(context, " ".join(p.message for p in reading.problems), case.id)
        if not reading.readings:
            return None
        before = dict(case.evidence)
        case.evidence, _notes = merge(case.evidence, reading)
        case.touch()
        verdict = verify(before, case.evidence, current.ask or "", case.values) if current.ask else None
        if verdict is None:
            await say(context, "Read. This step's result is not something the diagnostic shows: answer it on the card.", case.id)
            return None
        # The wait gate holds for every source: a paste read before the wait is over is "not yet".
        left = wait_left(case, current, services.clock.now(), services.wait_scale)
        if left is not None and gives_up(services.playbook, current, verdict.option):
            minutes = max(1, round(left.total_seconds() / 60))
            await say(
                context,
                f"From your diagnostic: {verdict.message} The wait is not over yet (about "
                f"{cards.minutes_words(minutes)} left): paste it again later, or say 'not yet' and I will remind you.",
                case.id,
            )
            return None
        await say(context, f"From your diagnostic: {verdict.message}", case.id)
        return StepAnswer("done", verdict.option)

    async def after_failure(
        self,
        step: WaterfallStepContext,
        case: RecoveryCase,
        leaf: Leaf,
        current: Step,
        answer: FailureAnswer,
        clicked: str | None,
    ) -> DialogTurnResult:
        """The admin's choice on the failure card (or the error text they pasted there)."""
        context = step.context
        playbook = self.services.playbook
        pending = case.pending_failure or {"step": current.id, "error": ""}
        if answer.error:
            pending["error"] = redact(answer.error.strip()[: MAX_ERROR + 256])[:MAX_ERROR]  # cut, then redact
        case.pending_failure = pending
        case.touch()
        choice = answer.choice
        if choice == "error":
            entry = match_error(answer.error)
            if entry is not None:
                await show(context, diagnostic_cards.error_card(entry, case.id), case.id)
            return await step.replace_dialog(STEPS_LOOP, again("Error text noted. Choose below what to do next."))
        if choice == "retry":
            case.pending_failure = None
            return await step.replace_dialog(STEPS_LOOP, again("Trying again: run the step, then press Done."))
        alternative = alternative_of(leaf, current)
        if choice == "alternative" and alternative is None:
            return await step.replace_dialog(
                STEPS_LOOP, again("There is no other way past this step: try it again, or escalate.")
            )
        description = failure_description(case, playbook)
        progress = fail_step(case, leaf, current, choice, pending["error"])
        if choice == "alternative" and alternative is not None:
            outcome = f"went on at '{alternative.title}', the other way past this step"
            summary = progress_cards.step_summary_card(leaf, current, case, playbook, outcome)
            await self.services.live.answered(context, case, summary, clicked)
            if progress.note:
                await say(context, progress.note, case.id)
            return await step.replace_dialog(STEPS_LOOP)
        summary = progress_cards.step_summary_card(leaf, current, case, playbook, "escalated to support with the error")
        await self.services.live.answered(context, case, summary, clicked)
        from .main_dialog import admin_upn  # here, not at the top: main_dialog imports this module

        identity = self.services.identity(context)
        upn = await admin_upn(context)
        contact = f"{identity.name} ({upn})" if upn and identity.name else upn or identity.name
        await show(context, self.services.escalation.form(case, contact, description), case.id)
        if progress.kind == "support":
            return await step.end_dialog(ESCALATING)
        # Stuck: the step stays current, waiting quietly behind the form ('done' still works).
        return await step.replace_dialog(STEPS_LOOP, again(silent=True))


async def record_option(
    services: Services, context: TurnContext, case: RecoveryCase, question_id: str, result: PromptResult
) -> None:
    """Apply a question's answer to the case; its card becomes the answer, with the option's note."""
    playbook = services.playbook
    question = playbook.question(question_id)
    chosen = result.answer
    if question is None or not isinstance(chosen, OptionAnswer):
        return
    option = question.option(chosen.option)
    if option is None:
        return
    answer(case, playbook, question, option.id, by=chosen.by)
    tone = "Attention" if option.end else "Good"  # an answer that ends in support is not a success
    await services.live.answered(
        context, case, cards.question_card(question, case, playbook, answered=option.label, tone=tone), result.clicked
    )
    if option.note:
        await say(context, option.note, case.id)
