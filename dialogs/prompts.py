"""One prompt for everything the walkthrough asks: a card out, a click or typed words back.

Teams sends a card click as a message with `text` None and the button's data in `value`; typed
answers arrive as `text`. Both are recognised here. A click on a card that is not the one being
asked (an old question, a step already done, another case) is refused with where the admin is,
and changes nothing. A prompt is asked with a `PromptRequest` and ends with a `PromptResult`:
small dataclasses; the request is kept on the dialog stack as plain JSON.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from bot.cards import actions, progress
from bot.cards import diagnostics as diagnostic_cards
from bot.cards import walkthrough as cards
from bot.cards.base import Card
from bot.cards.reminders import deadline_question_card
from bot.diagnostics.assess import assess
from bot.diagnostics.reading import MAX_PASTE_CHARS, marker_re
from bot.diagnostics.scripts import default_scripts
from bot.playbook import InvalidValue, Question, Step, check_upn
from bot.playbook.model import RUNS_IN, RUNS_IN_ORIGINAL
from bot.turn.replies import say
from bot.turn.services import Services
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.deadlines import KINDS
from bot.walkthrough.rules import alternative_of, check_every, current_step, gives_up, pending_question, step_number, wait_left

log = logging.getLogger(__name__)
MAX_TEXT = 500  # longer typed input is not an answer to anything the bot asks
MAX_ERROR_TEXT = 2000  # except pasted error text, after 'It failed'
UNKNOWN_WORDS = ("i don't know", "i do not know", "don't know", "dont know", "unknown", "not sure", "no idea")
DONE_WORDS = ("done", "ok", "next", "finished", "completed")
RETRY_WORDS = ("try again", "retry", "again", "try the step again")
STEER_WORDS = "You can also say 'back', 'change an answer', 'cancel' or 'help'."
ALTERNATIVE_WORDS = ("alternative", "skip", "go on", "take the alternative")


def normalise(text: str | None) -> str:
    return " ".join((text or "").strip().lower().split())


@dataclass(frozen=True)
class PromptRequest:
    """What to ask: kind is upn | diagnostic | question | step | confirm | failure."""

    kind: str
    question: str = ""
    step: str = ""
    note: str = ""  # a line above the card's content (why it is asked again)
    silent: bool = False  # the step waits behind an escalation form: ask without a card, once

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptRequest:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def shows(self) -> dict[str, str]:
        """What its card shows, as the live card remembers it."""
        return {"kind": self.kind, "question": self.question, "step": self.step}


@dataclass(frozen=True)
class UpnAnswer:
    upn: str


@dataclass(frozen=True)
class OptionAnswer:
    option: str
    by: str = "admin"  # "graph": the admin confirmed what Microsoft Graph found


@dataclass(frozen=True)
class StepAnswer:
    result: str  # done | failed | save | confirm
    option: str | None = None  # the step's own question's answer, with done
    values: dict[str, str] = field(default_factory=dict)
    error: str = ""  # with failed: the error text the admin typed or pasted


@dataclass(frozen=True)
class DateAnswer:
    """When a deadline's clock started, as given (validated by the dialog), or not known."""

    date: str = ""
    unknown: bool = False


@dataclass(frozen=True)
class FailureAnswer:
    choice: str  # retry | alternative | escalate | error (the pasted error text)
    error: str = ""


@dataclass(frozen=True)
class PasteAnswer:
    """Typed text that carries (or may carry) a diagnostic's output, or an error, pasted."""

    text: str


@dataclass(frozen=True)
class DiagnosticAnswer:
    op: str  # confirm | wrong | questions
    exchange_guid: str = ""
    mail_for: str = ""


Answer = UpnAnswer | OptionAnswer | StepAnswer | DateAnswer | FailureAnswer | PasteAnswer | DiagnosticAnswer
QUESTION_WORDS = ("questions", "answer the questions", "i'd rather answer the questions", "skip", "no diagnostic")
CONFIRM_WORDS = ("confirm", "yes", "correct", "that's right", "right")


def has_marker(text: str) -> bool:
    return bool(marker_re().search(text[:MAX_PASTE_CHARS]))


@dataclass(frozen=True)
class PromptResult:
    answer: Answer
    clicked: str | None = None  # the card clicked (replyToId), where it was a click


class Reply(InvalidValue):
    """Not an answer but a question about the card (how long, where, why): said, and the card stays."""


class CasePrompt(Prompt):
    """Asks one thing about the current case (a PromptRequest) and ends with a PromptResult.

    Every card goes out through the case's live card (bot.turn.live_card): asking again posts it
    anew at the bottom of the chat and retires the previous one."""

    def __init__(self, dialog_id: str, services: Services) -> None:
        super().__init__(dialog_id)
        self.services = services

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        if not isinstance(options, PromptRequest):
            raise TypeError("CasePrompt is asked with a PromptRequest")
        state = dialog_context.active_dialog.state
        state[self.persisted_options] = options.to_json()
        state[self.persisted_state] = {}
        await self.on_prompt(dialog_context.context, state[self.persisted_state], state[self.persisted_options], False)
        return Dialog.end_of_turn

    # --- sending ---------------------------------------------------------------------------

    def build_card(self, context: TurnContext, request: PromptRequest) -> Card:
        services = self.services
        case = services.current(context)
        if request.kind == "upn":
            return cards.upn_card(case.id)
        if request.kind == "diagnostic":
            if case.evidence:
                found = assess(case.evidence, services.playbook, case.graph, services.clock.now())
                return diagnostic_cards.reading_card(case, found, services.playbook)
            return diagnostic_cards.diagnostic_card(case, services.playbook, default_scripts())
        if request.kind == "question":
            return cards.question_card(self.question(request.question), case, services.playbook)
        if request.kind == "deadline":
            return deadline_question_card(case.id, KINDS[request.question], case.upn or "", note=request.note)
        leaf = services.playbook.leaves[case.leaf_id or ""]
        step = leaf.step(request.step)
        if step is None:
            raise LookupError(f"leaf {leaf.id} has no step {request.step}")
        if request.kind == "confirm":
            return cards.confirm_card(leaf, step, case, services.playbook, note=request.note)
        if request.kind == "failure":
            error = (case.pending_failure or {}).get("error", "")
            return progress.failure_card(leaf, step, case, alternative_of(leaf, step), error)
        now = services.clock.now()
        waiting = wait_left(case, step, now, services.wait_scale)
        return cards.step_card(leaf, step, case, services.playbook, note=request.note, now=now, waiting=waiting)

    async def on_prompt(self, turn_context: TurnContext, state: dict, options: PromptOptions | dict, is_retry: bool) -> None:
        case = self.services.current(turn_context)
        if is_retry and state.get("retry"):
            await say(turn_context, state.pop("retry"), case.id)
            return
        request = PromptRequest.from_json(options if isinstance(options, dict) else {})
        if request.silent:
            if isinstance(options, dict):
                options["silent"] = False  # once: asking again shows its card
            return
        await self.services.live.post(turn_context, case, self.build_card(turn_context, request), request.shows())

    def question(self, question_id: str) -> Question:
        question = self.services.playbook.question(question_id)
        if question is None:
            raise LookupError(f"the playbook has no question {question_id}")
        return question

    # --- recognising -----------------------------------------------------------------------

    async def on_recognize(self, turn_context: TurnContext, state: dict, options: dict) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        activity = turn_context.activity
        request = PromptRequest.from_json(options)
        click = actions.decode(activity.value)
        try:
            if click is not None:
                answer = self._from_click(turn_context, click, request)
            else:
                text = activity.text or ""
                limit = MAX_ERROR_TEXT if request.kind in ("failure", "step") else MAX_TEXT  # a step: an error pasted
                if request.kind == "diagnostic" or (request.kind == "step" and has_marker(text)):
                    limit = MAX_PASTE_CHARS * 2  # read_paste refuses what is over its own cap, with its message
                if len(text) > limit:
                    raise InvalidValue(f"That message is {len(text):,} characters long; I expected a short answer.")
                answer = self._from_text(turn_context, text, request)
        except InvalidValue as exc:
            state["retry"] = f"{exc} {self._reask(turn_context, request)}".strip()
            return result
        result.succeeded = True
        result.value = PromptResult(answer, activity.reply_to_id if click is not None else None)
        return result

    def _where(self, context: TurnContext) -> str:
        return describe_position(self.services, context)

    def _from_click(self, context: TurnContext, click: actions.Click, request: PromptRequest) -> Answer:
        case = self.services.current(context)
        if isinstance(click, actions.Unrecognised):
            raise InvalidValue(f"I did not recognise that card. {self._where(context)}")
        if getattr(click, "case", None) not in (None, case.id):
            raise InvalidValue(f"That card belongs to another case (type 'resume' to switch to it). {self._where(context)}")
        kind = request.kind
        if kind == "diagnostic" and isinstance(click, actions.DiagnosticAction):
            return DiagnosticAnswer(click.op, click.exchange_guid, click.mail_for)
        if kind == "deadline" and isinstance(click, actions.DeadlineAnswer):
            if click.which != request.question:
                raise InvalidValue(f"That date was already given. {self._where(context)}")
            return DateAnswer(click.date, click.unknown)
        if kind == "upn" and isinstance(click, actions.UpnSubmit):
            return UpnAnswer(check_upn(click.upn))
        if kind == "question" and isinstance(click, actions.Answer):
            if click.question != request.question:
                raise InvalidValue(f"That question was already answered. {self._where(context)}")
            if self.question(request.question).option(click.option) is None:
                raise InvalidValue("That is not an answer to this question.")
            return OptionAnswer(click.option, click.by)
        if kind == "step" and isinstance(click, actions.SaveValues) and click.step == request.step:
            return StepAnswer("save", values=click.values)
        if kind in ("step", "confirm") and isinstance(click, actions.StepResult | actions.Confirm):
            if click.step != request.step or isinstance(click, actions.Confirm) != (kind == "confirm"):
                raise InvalidValue(f"That card is not the current step. {self._where(context)}")
            if isinstance(click, actions.Confirm):
                return StepAnswer("confirm", values=click.values)
            self._not_while_waiting(context, request, click.option)
            return StepAnswer(click.result, click.option, click.values)
        if kind == "failure" and isinstance(click, actions.FailureChoice):
            if click.step != request.step:
                raise InvalidValue(f"That card is not the current step. {self._where(context)}")
            return FailureAnswer(click.choice, click.error)
        raise InvalidValue(f"That card is not the one I am waiting for. {self._where(context)}")

    def _from_text(self, context: TurnContext, text: str, request: PromptRequest) -> Answer:
        kind = request.kind
        said = normalise(text)
        if not said:
            raise InvalidValue("I got an empty message.")
        if kind == "upn":
            return UpnAnswer(check_upn(text))
        if kind == "deadline":
            return DateAnswer(unknown=True) if said.strip("'.!") in UNKNOWN_WORDS else DateAnswer(text.strip())
        if kind == "diagnostic":
            if said in QUESTION_WORDS:
                return DiagnosticAnswer("questions")
            if said in CONFIRM_WORDS:
                return DiagnosticAnswer("confirm")
            return PasteAnswer(text)
        if kind == "step" and has_marker(text):
            return PasteAnswer(text)
        if kind == "question":
            return OptionAnswer(match_option(self.question(request.question), said))
        if kind == "confirm":
            if said in ("yes", "confirm", "confirmed", "recorded", "i have recorded them", "done"):
                return StepAnswer("confirm")
            raise InvalidValue("Say 'recorded' once you have recorded the values, or 'escalate'.")
        case = self.services.current(context)
        step = self.services.playbook.leaves[case.leaf_id or ""].step(request.step)
        if step is None:
            raise LookupError(f"no step {request.step}")
        if kind == "failure":
            if said in RETRY_WORDS:
                return FailureAnswer("retry")
            if said in ALTERNATIVE_WORDS:
                return FailureAnswer("alternative")
            if said in ("done", "ok", "next", "finished", "completed", "it failed", "failed"):
                raise InvalidValue("This step is waiting for your choice: say 'try again', or 'escalate', or paste the error.")
            return FailureAnswer("error", text.strip())  # the pasted error text
        if said in ("failed", "it failed", "fail", "error"):
            return StepAnswer("failed")
        asked = step_question(said)
        if asked:  # answered from the step's own fields; the step stays as it is
            raise Reply(self._about_step(case, step, asked))
        if said in ("skip", "skip it", "skip this step"):
            raise InvalidValue(
                "This step is part of the recovery and cannot be skipped. If it cannot be done, say 'it failed' "
                "to see the other ways, or 'escalate'."
            )
        if step.ask:
            question = self.services.playbook.subquestions[step.ask]
            answer_text = said.removeprefix("done").strip(" :-")
            option = question.recognise(answer_text) if answer_text else None
            if option is not None:
                self._not_while_waiting(context, request, option.id)
                return StepAnswer("done", option.id)
            if looks_like_an_error(said):
                return StepAnswer("failed", error=text.strip())
            if not answer_text:
                raise InvalidValue("Done, with which answer?")
            match_option(question, answer_text)  # raises: not one of the answers
        first_word = said.split(" ", 1)[0].strip(",.!:;-")
        if said in DONE_WORDS or (first_word in DONE_WORDS and not looks_like_an_error(said)):  # "done, no errors"
            return StepAnswer("done")
        if looks_like_an_error(said):
            return StepAnswer("failed", error=text.strip())
        raise InvalidValue(
            "I did not understand that. Say 'done' when the step worked, 'it failed' (or paste the error) if it did not, "
            "'not yet' while you wait, 'back' to reopen the previous step, or 'escalate'."
        )

    def _about_step(self, case: RecoveryCase, step: Step, asked: str) -> str:
        if asked == "how_long":
            if not step.wait_minutes:
                return "This step has no wait: run it, check what it says to look for, then press Done."
            left = wait_left(case, step, self.services.clock.now(), self.services.wait_scale)
            still = f" About {cards.minutes_words(max(1, round(left.total_seconds() / 60)))} of it is left." if left else ""
            return cards.wait_line(step) + still
        if asked == "where":
            labels = RUNS_IN if case.dialect == "modern" else RUNS_IN_ORIGINAL
            places = [labels[p] for p in step.runs_in if p in labels]
            if not places:
                return "This step has no commands: it is done in the admin center or by checking what it says."
            return "Run it in " + " and ".join(places) + ". Each block of commands on the card says where it runs."
        return step.why

    def _not_while_waiting(self, context: TurnContext, request: PromptRequest, option: str | None) -> None:
        """Before a step's wait is over, 'No, still not' is 'not yet': it never ends the case."""
        case = self.services.current(context)
        leaf = self.services.playbook.leaves.get(case.leaf_id or "")
        step = leaf.step(request.step) if leaf else None
        if step is None or not gives_up(self.services.playbook, step, option):
            return
        left = wait_left(case, step, self.services.clock.now(), self.services.wait_scale)
        if left is not None:
            minutes = max(1, round(left.total_seconds() / 60))
            raise InvalidValue(
                f"The wait is not over yet (about {cards.minutes_words(minutes)} left): replication often takes that "
                f"long. Say 'not yet' and I will remind you in {cards.minutes_words(check_every(step))}, "
                "or 'escalate' if it cannot wait."
            )

    def _reask(self, context: TurnContext, request: PromptRequest) -> str:
        kind = request.kind
        if kind == "upn":
            return "Type the user's UPN, for example jane.doe@contoso.com."
        playbook = self.services.playbook
        if kind == "question":
            return choices(self.question(request.question)) + ". " + STEER_WORDS
        if kind == "step":
            step = playbook.leaves[self.services.current(context).leaf_id or ""].step(request.step)
            if step is not None and step.ask:  # the options once, here, whatever went wrong
                question = playbook.subquestions[step.ask]
                return f"{question.prompt} {choices(question)} (for example 'done 1'), or say 'it failed'."
        return ""


ERROR_WORDS = (
    "error", "failed", "fails", "didn't work", "did not work", "doesn't work", "does not work", "not working",
    "exception", "not recognized", "access denied", "denied", "couldn't", "could not", "cannot", "can't",
    "categoryinfo", "fullyqualifiederrorid", "not found", "isn't valid", "is not valid",
)  # fmt: skip
STEP_QUESTIONS = {
    "how_long": ("how long", "how much time", "when will it", "when is it done", "how many minutes"),
    "where": ("where do i run", "where should i run", "which window", "where does this run", "which shell", "where to run"),
    "what": ("what does this do", "what does it do", "why", "what is this", "what's this for", "what is this for"),
}


NO_ERROR = re.compile(r"\b(?:no|without|zero|0)\s+(?:errors?|problems?)\b")


def looks_like_an_error(said: str) -> bool:
    """A typed message that reports a failure ('it didn't work', a pasted PowerShell error), not
    one that says there was none ('done, no errors')."""
    return not NO_ERROR.search(said) and any(word in said for word in ERROR_WORDS)


def step_question(said: str) -> str:
    """Which question about the step a typed message asks, or ''."""
    return next((kind for kind, phrases in STEP_QUESTIONS.items() if any(said.startswith(p) for p in phrases)), "")


def choices(question: Question) -> str:
    """'Choose 1. Deleted, 2. Present (synced) or 3. No on-premises AD': the options, said once."""
    numbered = [f"{i}. {o.label}" for i, o in enumerate(question.options, start=1)]
    return "Choose " + (", ".join(numbered[:-1]) + " or " + numbered[-1] if len(numbered) > 1 else numbered[0])


def match_option(question: Question, said: str) -> str:
    """Option id for a typed answer: its number, label, id or one of its synonyms, in any case."""
    option = question.recognise(said)
    if option is None:
        raise InvalidValue(f"I did not understand '{normalise(said)[:60]}'.")
    return option.id


def describe_position(services: Services, context: TurnContext) -> str:
    """'You are at ...' for the current case, in one sentence."""
    case = services.case(context)
    if case is None:
        return "You have no recovery in progress; say 'start' to begin."
    pending = pending_question(case, services.playbook)
    if pending == "upn":
        return "You are at: which user's mailbox to recover."
    question = services.playbook.question(pending) if pending else None
    if question is not None:
        return f"You are at the question: {question.prompt}"
    leaf = services.playbook.leaves.get(case.leaf_id or "")
    step = current_step(case, leaf) if leaf and case.is_open else None
    if leaf and step:
        number, total = step_number(leaf, step, case)
        return f"You are at step {number} of {total}: {step.title}."
    return f"Case {case.id} is {case.status.replace('_', ' ')}."
