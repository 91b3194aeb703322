"""One prompt for everything the walkthrough asks: a card out, a click or typed words back.

Teams sends a card click as a message with `text` None and the button's data in `value`; typed
answers arrive as `text`. Both are recognised here. A click on a card that is not the one being
asked (an old question, a step already done, another case) is refused with where the admin is,
and changes nothing. Options are stored as a plain dict so the dialog stack stays plain JSON.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from bot.cards import actions, progress
from bot.cards import walkthrough as cards
from bot.playbook import InvalidValue, check_upn
from bot.turn.replies import refresh, say, show
from bot.turn.services import Services
from bot.walkthrough.rules import alternative_of, current_step, pending_question, step_number

log = logging.getLogger(__name__)
MAX_TEXT = 500  # longer typed input is not an answer to anything the bot asks
MAX_ERROR_TEXT = 2000  # except pasted error text, after 'It failed'
RETRY_WORDS = ("try again", "retry", "again", "try the step again")
ALTERNATIVE_WORDS = ("alternative", "skip", "go on", "take the alternative")


def normalise(text: str | None) -> str:
    return " ".join((text or "").strip().lower().split())


class CasePrompt(Prompt):
    """Asks one thing about the current case. kind: upn | question | step | confirm | failure.

    The case's one card with buttons is `case.live_card`: asking again (resume, the dialect switch,
    a validation note) updates that card in place; a new card is sent only when the last one was
    answered (and so made read-only)."""

    def __init__(self, dialog_id: str, services: Services) -> None:
        super().__init__(dialog_id)
        self.services = services

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        if not isinstance(options, dict) or "kind" not in options:
            raise TypeError("CasePrompt needs a dict with 'kind'")
        state = dialog_context.active_dialog.state
        state[self.persisted_options] = dict(options)
        state[self.persisted_state] = {}
        if options.get("card_id"):  # the card was updated in place: ask on it again, without a copy
            state[self.persisted_state]["card_id"] = options["card_id"]
            return Dialog.end_of_turn
        await self.on_prompt(dialog_context.context, state[self.persisted_state], state[self.persisted_options], False)
        return Dialog.end_of_turn

    # --- sending ---------------------------------------------------------------------------

    def build_card(self, context: TurnContext, options: dict) -> dict:
        services = self.services
        case = services.case(context)
        kind = options["kind"]
        if kind == "upn":
            return cards.upn_card(case.id)
        if kind == "question":
            question = services.playbook.question(options["question"])
            return cards.question_card(question, case, services.playbook)
        leaf = services.playbook.leaves[case.leaf_id]
        step = leaf.step(options["step"])
        if kind == "confirm":
            return cards.confirm_card(leaf, step, case, services.playbook, note=options.get("note", ""))
        if kind == "failure":
            error = (case.pending_failure or {}).get("error", "")
            return progress.failure_card(leaf, step, case, alternative_of(leaf, step), error)
        return cards.step_card(leaf, step, case, services.playbook, note=options.get("note", ""), now=services.clock.now())

    async def on_prompt(self, turn_context: TurnContext, state: dict, options: PromptOptions | dict, is_retry: bool):
        case = self.services.case(turn_context)
        if is_retry and state.get("retry"):
            await say(turn_context, state.pop("retry"), case.id)
            return
        if options.pop("silent", False):
            return  # once: the step waits behind an escalation form; asking again shows its card
        content = self.build_card(turn_context, options)
        if case.live_card:
            await refresh(turn_context, case.live_card, content, case.id)
            state["card_id"] = case.live_card
            return
        response = await show(turn_context, content, case.id)
        if response is not None and response.id:
            state["card_id"] = response.id
            case.live_card = response.id

    # --- recognising -----------------------------------------------------------------------

    async def on_recognize(self, turn_context: TurnContext, state: dict, options: dict) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        activity = turn_context.activity
        click = actions.decode(activity.value)
        try:
            if click is not None:
                value = self._from_click(turn_context, click, options)
            else:
                text = activity.text or ""
                if len(text) > (MAX_ERROR_TEXT if options["kind"] == "failure" else MAX_TEXT):
                    raise InvalidValue(f"That message is {len(text):,} characters long; I expected a short answer.")
                value = self._from_text(turn_context, text, options)
        except InvalidValue as exc:
            state["retry"] = f"{exc} {self._reask(turn_context, options)}".strip()
            return result
        value["card_id"] = state.get("card_id")
        value["reply_to_id"] = activity.reply_to_id
        result.succeeded = True
        result.value = value
        return result

    def _where(self, context: TurnContext) -> str:
        return describe_position(self.services, context)

    def _from_click(self, context: TurnContext, click: actions.Click, options: dict) -> dict:
        case = self.services.case(context)
        if isinstance(click, actions.Unrecognised):
            raise InvalidValue(f"I did not recognise that card. {self._where(context)}")
        if click.case not in (None, case.id):
            raise InvalidValue(f"That card belongs to another case (type 'resume' to switch to it). {self._where(context)}")
        kind = options["kind"]
        if kind == "upn" and isinstance(click, actions.UpnSubmit):
            return {"upn": check_upn(click.upn)}
        if kind == "question" and isinstance(click, actions.Answer):
            if click.question != options["question"]:
                raise InvalidValue(f"That question was already answered. {self._where(context)}")
            question = self.services.playbook.question(options["question"])
            if question.option(click.option) is None:
                raise InvalidValue("That is not an answer to this question.")
            return {"option": click.option, "by": click.by}
        if kind == "step" and isinstance(click, actions.SaveValues) and click.step == options["step"]:
            return {"result": "save", "values": click.values}
        if kind in ("step", "confirm") and isinstance(click, actions.StepResult | actions.Confirm):
            if click.step != options["step"] or isinstance(click, actions.Confirm) != (kind == "confirm"):
                raise InvalidValue(f"That card is not the current step. {self._where(context)}")
            if isinstance(click, actions.Confirm):
                return {"result": "confirm", "values": click.values}
            return {"result": click.result, "option": click.option, "values": click.values}
        if kind == "failure" and isinstance(click, actions.FailureChoice):
            if click.step != options["step"]:
                raise InvalidValue(f"That card is not the current step. {self._where(context)}")
            return {"result": "failure", "choice": click.choice, "error": click.error}
        raise InvalidValue(f"That card is not the one I am waiting for. {self._where(context)}")

    def _from_text(self, context: TurnContext, text: str, options: dict) -> dict:
        kind = options["kind"]
        said = normalise(text)
        if not said:
            raise InvalidValue("I got an empty message.")
        if kind == "upn":
            return {"upn": check_upn(text)}
        if kind == "question":
            question = self.services.playbook.question(options["question"])
            return {"option": match_option(question, said)}
        if kind == "confirm":
            if said in ("yes", "confirm", "confirmed", "recorded", "i have recorded them", "done"):
                return {"result": "confirm", "values": {}}
            raise InvalidValue("Say 'recorded' once you have recorded the values, or 'escalate'.")
        step = self.services.playbook.leaves[self.services.case(context).leaf_id].step(options["step"])
        if kind == "failure":
            if said in RETRY_WORDS:
                return {"result": "failure", "choice": "retry", "error": ""}
            if said in ALTERNATIVE_WORDS:
                return {"result": "failure", "choice": "alternative", "error": ""}
            if said in ("done", "ok", "next", "finished", "completed", "it failed", "failed"):
                raise InvalidValue("This step is waiting for your choice: say 'try again', or 'escalate', or paste the error.")
            return {"result": "failure", "choice": "error", "error": text.strip()}  # the pasted error text
        if said in ("failed", "it failed", "fail", "error"):
            return {"result": "failed", "values": {}}
        if step.ask:
            question = self.services.playbook.subquestions[step.ask]
            answer_text = said.removeprefix("done").strip(" :-")
            if not answer_text:
                raise InvalidValue("Done, with which answer?")
            return {"result": "done", "option": match_option(question, answer_text), "values": {}}
        if said in ("done", "ok", "next", "finished", "completed"):
            return {"result": "done", "values": {}}
        raise InvalidValue("Say 'done' when the step worked, 'it failed' if it did not, or 'escalate'.")

    def _reask(self, context: TurnContext, options: dict) -> str:
        kind = options["kind"]
        if kind == "upn":
            return "Type the user's UPN, for example jane.doe@contoso.com."
        playbook = self.services.playbook
        if kind == "question":
            return choices(playbook.question(options["question"])) + " (or type help)."
        if kind == "step":
            step = playbook.leaves[self.services.case(context).leaf_id].step(options["step"])
            if step.ask:  # the options once, here, whatever went wrong
                question = playbook.subquestions[step.ask]
                return f"{question.prompt} {choices(question)} (for example 'done 1'), or say 'it failed'."
        return ""


def choices(question) -> str:
    """'Choose 1. Deleted, 2. Present (synced) or 3. No on-premises AD': the options, said once."""
    numbered = [f"{i}. {o.label}" for i, o in enumerate(question.options, start=1)]
    return "Choose " + (", ".join(numbered[:-1]) + " or " + numbered[-1] if len(numbered) > 1 else numbered[0])


def match_option(question, said: str) -> str:
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
    if pending:
        return f"You are at the question: {services.playbook.question(pending).prompt}"
    leaf = services.playbook.leaves.get(case.leaf_id or "")
    step = current_step(case, leaf) if leaf and case.is_open else None
    if step:
        number, total = step_number(leaf, step, case)
        return f"You are at step {number} of {total}: {step.title}."
    return f"Case {case.id} is {case.status.replace('_', ' ')}."
