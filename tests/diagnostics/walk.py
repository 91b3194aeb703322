"""Walks a corpus case black-box over HTTP: start, the UPN, the pastes, Confirm, the sub-questions,
then every step, checking that each field the paste gave is filled in on the step that asks for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.playbook import Playbook
from tests.diagnostics.corpus import UPN, Case
from tests.harness import Admin, cards_of, texts_of
from tests.walker import SAMPLE_VALUES, button_titles, choose


@dataclass
class DiagWalk:
    turns_to_first_command: int = 0
    turns: int = 0
    plan_text: str = ""
    prefilled: dict[str, str] = field(default_factory=dict)  # placeholder -> value seen pre-filled
    labels: dict[str, str] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)  # every field a step or a confirmation card asked for
    ending: str = ""
    step_cards: list[dict] = field(default_factory=list)
    records: list = field(default_factory=list)


def _is_step_card(card: dict) -> bool:
    first = card.get("body", [{}])[0].get("text", "")
    return first.startswith("Step ") and any(e.get("type") == "CodeBlock" for e in card.get("body", []))


async def walk_case(admin: Admin, playbook: Playbook, case: Case, *, one_message: bool = False, to_end: bool = True) -> DiagWalk:
    walk = DiagWalk()

    async def turn(coro):
        records = await coro
        walk.turns += 1
        walk.records += records
        if not walk.turns_to_first_command and any(_is_step_card(c) for c in cards_of(records)):
            walk.turns_to_first_command = walk.turns
        return records

    await turn(admin.say("start"))
    await turn(admin.press("Next", upn=UPN))
    pastes = ["\n".join(case.pastes.values())] if one_message else list(case.pastes.values())
    for paste in pastes:
        await turn(admin.say(paste))
    inputs = {"exchange_guid": case.choose} if case.choose else {}
    await turn(admin.press("Confirm", mail_for="returning", **inputs))  # who needs the mail, on the same card
    for _ in range(60):
        last = cards_of(walk.records[-4:])
        card = last[-1]
        first = card["body"][0].get("text", "")
        text = "\n".join(texts_of(walk.records[-4:]))
        if "Your recovery plan" in text and not walk.plan_text:
            walk.plan_text = next(t for t in texts_of(walk.records) if "Your recovery plan" in t)
        if first in (playbook.complete_text, "This case needs Microsoft Support"):
            walk.ending = text
            return walk
        if not to_end and walk.plan_text and _is_step_card(card):
            return walk
        titles = button_titles(card)
        values = {}
        for element in card.get("body", []):
            if element.get("type") == "Input.Text" and element["id"].startswith("value."):
                name = element["id"].split(".", 1)[1]
                walk.asked.add(name)
                if element.get("value"):
                    walk.prefilled.setdefault(name, element["value"])
                    walk.labels.setdefault(name, element["label"])
                    values[element["id"]] = element["value"]
                else:
                    values[element["id"]] = SAMPLE_VALUES[playbook.placeholders[name].kind]
        if "I don't know" in titles:  # a clock the diagnostic cannot date (a license removal)
            await turn(admin.press("I don't know"))
        elif "I have recorded them" in titles:
            await turn(admin.press("I have recorded them", **values))
        elif first.startswith("Question") or not any(t and t.startswith("Done") for t in titles):
            await turn(admin.press(titles[0]))
        else:
            walk.step_cards.append(card)
            await turn(admin.press(choose(titles), **values))
    raise AssertionError("the walkthrough did not end")
