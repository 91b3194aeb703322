"""Drives a whole scenario the way an admin clicks through it in Teams."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.playbook import Playbook
from tests.harness import Admin, Recorded, cards_of, texts_of

UPN = "o'brien@contoso.com"
SAMPLE_VALUES = {
    "guid": "1b3f4c5d-0000-4e2f-9a8b-123456789abc",
    "upn": "obrien@contoso.onmicrosoft.com",
    "email": "obrien@contoso.com",
    "text": "Oisín O'Brien",
    "alias": "obrien",
    "label": "contoso",
    "country": "IE",
    "account_sku": "contoso:ENTERPRISEPACK",
    "dn": "OU=Synced Users,DC=contoso,DC=com",
    "proxy_addresses": (
        "SMTP:obrien@contoso.com;smtp:obrien@contoso.onmicrosoft.com;"
        "X500:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=1b3f4c5d-obrien"
    ),
    "hex": "00000000A1B2C3D4E5F60718293A4B5C",
    "sam": "obrien",
}


@dataclass
class Walk:
    records: list[Recorded] = field(default_factory=list)
    step_titles: list[str] = field(default_factory=list)
    step_cards: list[dict] = field(default_factory=list)
    plan_text: str = ""
    ending_text: str = ""

    def all_text(self) -> str:
        return "\n".join(texts_of(self.records))


def inputs_for(card: dict, playbook: Playbook) -> dict[str, str]:
    values = {}
    for element in card.get("body", []):
        if element.get("type") == "Input.Text" and element["id"].startswith("value."):
            name = element["id"].split(".", 1)[1]
            values[element["id"]] = SAMPLE_VALUES[playbook.placeholders[name].kind]
    return values


def button_titles(card: dict) -> list[str]:
    return [a.get("title") for a in card.get("actions", [])]


def choose(titles: list[str], prefer: dict[str, str] | None = None) -> str:
    """The first 'Done: <answer>' that continues the walkthrough, or the preferred one."""
    for title in titles:
        if prefer and title in prefer.values():
            return title
    dones = [t for t in titles if t and t.startswith("Done")]
    return dones[0]


async def walk_leaf(
    admin: Admin, playbook: Playbook, answers: dict[str, str], prefer: dict[str, str] | None = None, max_turns: int = 40
) -> Walk:
    walk = Walk()
    walk.records += await admin.say("start")
    walk.records += await admin.press("Next", upn=UPN)
    for question in playbook.questions:
        walk.records += await admin.press(question.option(answers[question.id]).label)
    leaf = playbook.leaf_for(answers)
    for sub in leaf.ask_first:
        label = (prefer or {}).get(sub) or playbook.subquestions[sub].options[0].label
        walk.records += await admin.press(label)
    for _ in range(max_turns):
        last = cards_of(walk.records[-3:])
        text = "\n".join(texts_of(walk.records[-3:]))
        if "Your recovery plan" in text and not walk.plan_text:
            walk.plan_text = next(t for t in texts_of(walk.records) if "Your recovery plan" in t)
        card = last[-1]
        if card["body"][0]["text"] in (playbook.complete_text, "This case needs Microsoft Support"):
            walk.ending_text = text
            return walk
        titles = button_titles(card)
        if "I have recorded them" in titles:
            turn = await admin.press("I have recorded them", **inputs_for(card, playbook))
        else:
            walk.step_titles.append(card["body"][0]["text"])
            walk.step_cards.append(card)
            turn = await admin.press(choose(titles, prefer), **inputs_for(card, playbook))
        walk.records += turn
    raise AssertionError("the walkthrough did not end")
