"""Drives a whole scenario the way an admin clicks through it in Teams."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.playbook import Leaf, Playbook, Step
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
    if "I don't know" in titles:  # when a 30-day clock started: the walker does not know
        return "I don't know"
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
        if "I don't know" in titles:  # when a 30-day clock started: asked one at a time
            turn = await admin.press("I don't know")
        elif "I have recorded them" in titles:
            turn = await admin.press("I have recorded them", **inputs_for(card, playbook))
        else:
            walk.step_titles.append(card["body"][0]["text"])
            walk.step_cards.append(card)
            turn = await admin.press(choose(titles, prefer), **inputs_for(card, playbook))
        walk.records += turn
    raise AssertionError("the walkthrough did not end")


# --- finding what to test, by property --------------------------------------------------------


def first_choices(playbook: Playbook, leaf: Leaf) -> dict[str, str] | None:
    """The answers a walk that always takes the first option gives (as walk_to does), or None when
    that path ends at a sub-question (an option that ends the walkthrough)."""
    answers = dict(leaf.answers)
    for sub in leaf.ask_first:
        option = playbook.subquestions[sub].options[0]
        if option.end:
            return None
        answers[sub] = option.id
    for step in leaf.steps:
        if step.ask and step.applies(answers):
            option = playbook.subquestions[step.ask].options[0]
            if option.end:
                return None
            answers[step.ask] = option.id
    return answers


def path(playbook: Playbook, leaf: Leaf) -> list[Step]:
    """The steps a first-option walk of the leaf goes through, in order; [] when it cannot finish."""
    answers = first_choices(playbook, leaf)
    return [s for s in leaf.steps if s.applies(answers)] if answers is not None else []


def straight(leaf: Leaf) -> bool:
    """A leaf walked without any sub-question of its own (every leaf asks who needs the mail first):
    every step applies, in order."""
    return set(leaf.ask_first) <= {"mail_for"} and not any(s.when or s.ask for s in leaf.steps)


def destructive_with_nothing_collected(playbook: Playbook) -> tuple[Leaf, Step]:
    """A destructive step whose record list no earlier step collects: its values come only from its own card."""
    for leaf in playbook.leaves.values():
        collected: set[str] = set()
        for step in path(playbook, leaf):
            if step.destructive and step.record and not set(step.record) & collected:
                return leaf, step
            collected |= set(step.collect)
    raise AssertionError("no destructive step whose values are recorded only on its own card")


def collecting_step_before_destructive(playbook: Playbook) -> tuple[Leaf, Step, Step]:
    """A step that collects values, and a later destructive step that records them."""
    for leaf in playbook.leaves.values():
        steps = path(playbook, leaf)
        for n, step in enumerate(steps):
            later = next((s for s in steps[n + 1 :] if s.destructive and set(s.record) <= set(step.collect)), None)
            if step.collect and later:
                return leaf, step, later
    raise AssertionError("no collecting step before a destructive one")


def step_without_alternative(playbook: Playbook) -> tuple[Leaf, Step]:
    for leaf in playbook.leaves.values():
        first = leaf.steps[0]
        # A first step whose original dialect is retired (A1 now starts on the Entra Connect server).
        if straight(leaf) and not first.on_failure and not first.collect and "New-PSSession" in first.commands["original"]:
            return leaf, first
    raise AssertionError("no leaf starting with a plain step")


def step_failing_into_support(playbook: Playbook) -> tuple[Leaf, Step]:
    for leaf in playbook.leaves.values():
        for step in path(playbook, leaf):
            if step.on_failure == "support":
                return leaf, step
    raise AssertionError("no step whose failure path is support")


def labels(playbook: Playbook, leaf: Leaf) -> list[str]:
    return [q.option(leaf.answers[q.id]).label for q in playbook.questions]


def value_for(playbook: Playbook, name: str) -> str:
    return SAMPLE_VALUES[playbook.placeholders[name].kind]


# --- driving the walkthrough --------------------------------------------------------------------


def latest_card(admin: Admin) -> tuple[dict, str]:
    """The card the admin would act on now: the newest send or update that still has buttons."""
    for record in reversed(admin.history()):
        for content in cards_of([record]):
            if content.get("actions"):
                return content, record.activity_id
    raise AssertionError("no card with buttons")


def title(content: dict) -> str:
    return content["body"][0]["text"]


async def walk_to(admin: Admin, playbook: Playbook, leaf: Leaf, stop: Callable[[dict], bool], max_turns: int = 30) -> dict:
    """Start a case for the leaf and press on (Done, with sample values) until `stop(card)`."""
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    for label in labels(playbook, leaf):
        await admin.press(label)
    for sub in leaf.ask_first:  # the sub-questions before the plan: the first option, as path() assumes
        await admin.press(playbook.subquestions[sub].options[0].label)
    for _ in range(max_turns):
        content, _ = latest_card(admin)
        if stop(content):
            return content
        titles = button_titles(content)
        if "I don't know" in titles:  # when a 30-day clock started: asked one at a time
            await admin.press("I don't know")
            continue
        button = "I have recorded them" if "I have recorded them" in titles else choose(titles)
        await admin.press(button, **inputs_for(content, playbook))
    raise AssertionError("never reached the card")


def is_step(step: Step) -> Callable[[dict], bool]:
    return lambda content: title(content).endswith(f": {step.title}") and title(content).startswith("Step ")


def is_confirm(step: Step) -> Callable[[dict], bool]:
    return lambda content: title(content).startswith("Before step") and title(content).endswith(step.title)


def moved_below(records: list[Recorded], card_id: str) -> str:
    """The card the admin acted on lost its buttons and the card to act on now was posted as the
    last one in the chat: its id ('' when that is not what happened)."""
    carded = [r for r in records if cards_of([r])]
    retired = [r for r in carded if r.kind == "update" and r.activity_id == card_id]
    if not carded or not retired or any(c.get("actions") for c in cards_of(retired)):
        return ""
    last = carded[-1]
    return last.activity_id if last.kind == "send" and cards_of([last])[0].get("actions") else ""


async def settle_dates(admin: Admin) -> list[Recorded]:
    """Answer 'I don't know' to each date card the bot asks now (it asks them one at a time)."""
    records: list[Recorded] = []
    while "I don't know" in button_titles(latest_card(admin)[0]):
        records += await admin.press("I don't know")
    return records


# --- a case opened by pressing its answers' buttons (as the reminder tests do) ------------------
RETURNING = "The user, who is coming back"  # "Who needs this mailbox's content?", asked in every leaf
B7 = ("Present (synced)", "Hard-deleted", "Present", RETURNING)  # step 1 is a 30-minute delta sync
B5 = ("Present (synced)", "Soft-deleted", "Soft-deleted", RETURNING)  # both 30-day clocks run


async def open_case(admin: Admin, answers: tuple[str, ...]) -> list:
    await admin.say("start new")  # a new case even when one is open
    await admin.press("Next", upn=UPN)
    records = []
    for label in answers:
        records += await admin.press(label)
    return records
