"""Issue 13, points 7 to 11, as the admin sees them over HTTP: the whole route before starting,
questions counted with their sub-questions, no internal words, a value pasted on a card filling
its commands, the emphasis of warnings and buttons, links to Learn, and re-asks that list the
options once and understand common words."""

from __future__ import annotations

import copy
import re
import tomllib

import pytest

from bot.playbook import DEFAULT_PATH, PlaybookError, ps_quote
from bot.playbook.loader import build_playbook
from tests.harness import Recorded, cards_of, find_action, joined
from tests.playbook_table import EXPECTED
from tests.walker import SAMPLE_VALUES, UPN, button_titles, choose, inputs_for, walk_leaf

LEARN_PAGES = {
    "Delete or restore user mailboxes in Exchange Online": (
        "https://learn.microsoft.com/exchange/recipients-in-exchange-online/delete-or-restore-mailboxes"
    ),
    "Restore a deleted user": "https://learn.microsoft.com/entra/fundamentals/users-restore",
    "Recover an inactive mailbox": "https://learn.microsoft.com/purview/recover-an-inactive-mailbox",
}


def sent_cards(records: list[Recorded]) -> list[dict]:
    return cards_of([r for r in records if r.kind == "send"])


def title_of(card: dict) -> str:
    return card["body"][0].get("text", "")


def elements(node) -> list[dict]:
    """Every element of a card, containers and shown cards included."""
    found = []
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for key in ("body", "items", "actions", "card", "columns", "inlines"):
            found += elements(node.get(key))
    elif isinstance(node, list):
        for item in node:
            found += elements(item)
    return found


async def answer_questions(admin, playbook, leaf) -> list[Recorded]:
    """Start, the user, the three answers and the leaf's sub-questions (first option): up to its plan."""
    records = await admin.say("start")
    records += await admin.press("Next", upn=UPN)
    for question in playbook.questions:
        records += await admin.press(question.option(leaf.answers[question.id]).label)
    for sub in leaf.ask_first:
        records += await admin.press(playbook.subquestions[sub].options[0].label)
    return records


async def advance_until(admin, playbook, reached) -> dict:
    """Go through the steps as the walker does (Done, the first answer, recorded values) until the
    latest card is `reached`; that card."""
    for _ in range(30):
        card = sent_cards(admin.history())[-1]
        if reached(card):
            return card
        titles = button_titles(card)
        button = "I have recorded them" if "I have recorded them" in titles else choose(titles)
        await admin.press(button, **inputs_for(card, playbook))
    raise AssertionError("never reached")


def code_of(card: dict) -> str:
    return "\n".join(e["codeSnippet"] for e in elements(card) if e.get("type") == "CodeBlock")


def leaf_where(playbook, predicate):
    """The first leaf reached by the three answers (not a situation leaf) that fits."""
    return next(leaf for leaf in playbook.leaves.values() if not leaf.situation and predicate(leaf))


def no_own_questions(leaf) -> bool:
    """Only the question every leaf asks first ("Who needs this mailbox's content?")."""
    return set(leaf.ask_first) <= {"mail_for"}


def plain(step) -> bool:
    """Shown on the first-option path without depending on an answer still to come (the first
    answer to "Who needs this mailbox's content?" is the returning user)."""
    return not (set(step.when) - {"mail_for"}) and step.when.get("mail_for", "returning") == "returning"


# --- 7. the route, "you are here", questions counted with their sub-questions ----------------


async def test_the_plan_lists_every_step_with_its_wait_before_the_first_step(admin, playbook):
    leaf = leaf_where(
        playbook, lambda x: any(s.wait_minutes for s in x.steps) and not any(s.when for s in x.steps) and len(x.steps) > 3
    )
    records = await answer_questions(admin, playbook, leaf)
    plan = next(c for c in sent_cards(records) if title_of(c) == "Your recovery plan")
    route = next(e for e in plan["body"] if e.get("type") == "FactSet" and e["facts"][0]["title"] == "1.")
    rows = [(f["title"], f["value"]) for f in route["facts"]]
    assert [title for title, _ in rows] == [f"{n}." for n in range(1, len(leaf.steps) + 1)]
    for step, (_, value) in zip(leaf.steps, rows, strict=True):
        assert value.startswith(step.title)
        assert (f"wait up to {step.wait_minutes} minutes" in value) == bool(step.wait_minutes)
    # The plan comes before the first step's card.
    titles = [title_of(c) for c in sent_cards(records)]
    assert titles.index("Your recovery plan") < titles.index(f"Step 1 of {len(leaf.steps)}: {leaf.steps[0].title}")


async def test_the_plan_says_which_steps_depend_on_an_answer_still_to_come(admin, playbook):
    def later(leaf):
        return next((s for s in leaf.steps if set(s.when) - set(leaf.ask_first) and plain_but(s, leaf)), None)

    def plain_but(step, leaf):
        return all(step.when.get(q, "returning") == "returning" for q in leaf.ask_first)

    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and later(x))
    records = await answer_questions(admin, playbook, leaf)
    plan = joined([r for r in records if "Your recovery plan" in joined([r])])
    step = later(leaf)
    sub, value = next((q, v) for q, v in step.when.items() if q not in leaf.ask_first)
    question = playbook.subquestions[sub]
    row = next(line for line in plan.splitlines() if f".: {step.title}" in line)  # the step's row on the route
    assert f"only if the answer to '{question.prompt}' is {question.option(value).label}" in row


async def test_status_marks_you_are_here(admin, playbook):
    leaf = leaf_where(playbook, lambda x: len(x.steps) > 2 and not x.steps[0].collect and not x.steps[0].ask)
    await answer_questions(admin, playbook, leaf)
    await admin.press("Done")
    status = joined(await admin.say("status"))
    assert f"1. {leaf.steps[0].title}: done" in status
    assert f"2. {leaf.steps[1].title}: you are here" in status
    assert status.count("you are here") == 1
    assert f"3. {leaf.steps[2].title}: to do" in status


async def test_status_during_the_questions_says_which_question(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.press("Deleted")
    status = joined(await admin.say("status"))
    assert "You are here: question 2 of up to 6: What is the current state of the user's Entra ID (Azure AD) account?" in status


async def test_a_sub_question_is_counted_with_the_questions(admin, playbook):
    leaf = leaf_where(playbook, lambda x: x.ask_first)
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = []
    for question in playbook.questions:
        records = await admin.press(question.option(leaf.answers[question.id]).label)
    sub = playbook.subquestions[leaf.ask_first[0]]
    total = len(playbook.questions) + len(leaf.ask_first)
    assert title_of(sent_cards(records)[-1]) == f"Question 4 of {total}: {sub.prompt}"
    third = next(r for r in records if r.kind == "update")  # the question just answered, updated in place
    assert title_of(cards_of([third])[0]) == f"Question 3 of {total}: {playbook.questions[2].prompt}"
    assert not re.search(r"\b\d/3\b", joined(admin.history()))


# --- 8. no internal words -------------------------------------------------------------------


def visible_text(node) -> list[str]:
    """What the admin reads on a card, commands left out (PowerShell has its own identifiers)."""
    if isinstance(node, list):
        return [t for item in node for t in visible_text(item)]
    if not isinstance(node, dict) or node.get("type") == "CodeBlock":
        return []
    out = [node[k] for k in ("text", "title", "label", "placeholder") if isinstance(node.get(k), str)]
    if node.get("type") == "FactSet":
        out += [f"{f['title']}: {f['value']}" for f in node["facts"]]
    for key in ("body", "items", "actions", "card", "columns", "inlines"):
        out += visible_text(node.get(key))
    return out


def admin_reads(records: list[Recorded]) -> str:
    parts = []
    for record in records:
        parts.append(record.activity.get("text") or "")
        for attachment in record.activity.get("attachments") or []:
            parts += visible_text(attachment.get("content"))
    return "\n".join(parts)


PROPER_NAMES = ("Entra ID", "Azure AD", "Active Directory", "Exchange Online", "AD FS", "ExchangeGuid", "Microsoft Graph")


def internal_words(text: str, playbook) -> list[str]:
    text = re.sub(r"For support: route [A-Z]\d+", "", text)  # the small print for support
    found = re.findall(r"\b(?:" + "|".join(playbook.leaves) + r")\b", text)
    found += re.findall(r"\bS\d{1,2}\b", text)
    # Identifiers, not words: "name" or "alias" may be said, "exchange_guid" may not.
    enums = {"needs_support", "self_service", "new_mailbox", "upn"} | {p for p in playbook.placeholders if "_" in p}
    for question in (*playbook.questions, *playbook.subquestions.values()):
        enums |= {o.id for o in question.options if "_" in o.id}
    enums |= {s.id for leaf in playbook.leaves.values() for s in leaf.steps if "_" in s.id}
    found += [word for word in enums if re.search(rf"(?<![\w$-]){re.escape(word)}(?![\w-])", text)]
    for name in PROPER_NAMES:
        found += [m for m in re.findall(re.escape(name), text, flags=re.IGNORECASE) if m != name]
    return found


@pytest.mark.parametrize("leaf_id", sorted(EXPECTED))
async def test_no_internal_words_reach_the_admin(leaf_id, admin, playbook):
    onprem, entra, mailbox, *_ = EXPECTED[leaf_id]
    walk = await walk_leaf(admin, playbook, {"onprem": onprem, "entra": entra, "mailbox": mailbox})
    records = list(walk.records)
    for command in ("status", "cases", "transcript", "help"):
        records += await admin.say(command)
    text = admin_reads(records)
    assert f"For support: route {leaf_id}" in text
    assert internal_words(text, playbook) == []


def test_the_internal_words_check_bites(playbook):
    said = "Plan C6 (S12): needs_support; record exchange_guid; Entra id (azure ad); upn"
    found = internal_words(said, playbook)
    assert {"C6", "S12", "needs_support", "exchange_guid", "Entra id", "azure ad", "upn"} <= set(found)
    assert internal_words("For support: route C6. The UPN of jane@contoso.com; $upn", playbook) == []


# --- 9. a value pasted on a card fills its own commands and every later one -----------------


async def test_a_saved_value_fills_the_rest_of_the_same_card_and_every_later_command(admin, playbook):
    def fills_itself(step):
        return any("{" + name + "}" in step.commands["modern"] for name in step.collect)

    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and any(fills_itself(s) and plain(s) for s in x.steps))
    # (the first Done answers of each sub-question are the path taken, as in tests/walker.py)
    step = next(s for s in leaf.steps if fills_itself(s) and plain(s))
    name = next(n for n in step.collect if "{" + n + "}" in step.commands["modern"])
    label = playbook.placeholders[name].label
    await answer_questions(admin, playbook, leaf)
    card = await advance_until(admin, playbook, lambda c: title_of(c).endswith(step.title))
    assert f"<{label}>" in code_of(card)  # not known yet: a visible hint
    _, card_id = find_action(admin.history(), "Save and fill in the commands")

    value = SAMPLE_VALUES[playbook.placeholders[name].kind]
    before = len(admin.history())
    records = await admin.press("Save and fill in the commands", **{f"value.{name}": value})
    # The same step comes again as the last card, filled in; the one above loses its buttons.
    assert [r.kind for r in records] == ["update", "send"] and records[0].activity_id == card_id
    assert not cards_of(records)[0].get("actions")
    updated = cards_of(records)[-1]
    new_id = records[-1].activity_id
    assert f"'{value}'" in code_of(updated) and f"<{label}" not in code_of(updated)
    done = choose(button_titles(updated))
    assert done in button_titles(card)  # the same buttons, live on the new card

    records = await admin.press(done, admin.history()[before:])  # Done on the new card goes on
    assert [r.activity_id for r in records if r.kind == "update"] == [new_id]
    assert title_of(cards_of(records)[0]).startswith(title_of(card))


async def test_a_value_recorded_on_a_card_fills_every_later_command(admin, playbook):
    def uses(step, name):
        return "{" + name + "}" in step.commands["modern"]

    def later_use(leaf):
        for i, step in enumerate(leaf.steps):
            for name in step.collect:
                later = [s for s in leaf.steps[i + 1 :] if uses(s, name) and plain(s)]
                if later and plain(step):
                    return step, name, later
        return None

    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and later_use(x))
    _, name, later = later_use(leaf)
    answers = {q: leaf.answers[q] for q in ("onprem", "entra", "mailbox")}
    walk = await walk_leaf(admin, playbook, answers)  # types a sample value into every field
    value = SAMPLE_VALUES[playbook.placeholders[name].kind]
    shown = {title.split(": ", 1)[1]: card for title, card in zip(walk.step_titles, walk.step_cards, strict=True)}
    for other in later:
        assert ps_quote(value) in code_of(shown[other.title]), other.title
        assert f"<{playbook.placeholders[name].label}" not in code_of(shown[other.title])


# --- 10. emphasis ---------------------------------------------------------------------------


def strongest(card: dict) -> list[dict]:
    return [
        e
        for e in elements(card)
        if e.get("type") == "TextBlock" and e.get("color") == "Attention" and e.get("weight") == "Bolder" and e.get("size")
    ]


async def test_data_loss_warnings_are_the_strongest_style_on_the_card(admin, playbook):
    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and any(s.destructive and plain(s) for s in x.steps))
    step = next(s for s in leaf.steps if s.destructive and plain(s))
    records = await answer_questions(admin, playbook, leaf)
    plan = next(c for c in sent_cards(records) if title_of(c) == "Your recovery plan")
    confirm = await advance_until(admin, playbook, lambda c: title_of(c).startswith("Before step"))
    assert title_of(confirm).endswith(step.title)
    records = await admin.press("I have recorded them", **inputs_for(confirm, playbook))
    step_card = sent_cards(records)[-1]
    assert title_of(step_card).startswith("Step ") and title_of(step_card).endswith(step.title)
    for card in (plan, confirm, step_card):
        warning = next(e for e in elements(card) if e.get("type") == "Container" and step.warning in joined_text(e))
        assert warning["style"] == "attention"
        [block] = warning["items"]
        assert (block["color"], block["weight"], block["size"]) == ("Attention", "Bolder", "Medium")
        # Nothing else on the card is red and bold, and nothing is larger than the warning.
        assert all(step.warning in e["text"] or "Warning" in e["text"] for e in strongest(card))
        assert not [e for e in elements(card) if e.get("size") in ("Large", "ExtraLarge")]
        assert not [e for e in elements(card) if e.get("color") == "Warning"]  # no pale yellow


def joined_text(node) -> str:
    return "\n".join(visible_text(node))


async def test_it_failed_is_not_louder_than_done(admin, playbook):
    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and x.steps and not x.steps[0].ask)
    records = await answer_questions(admin, playbook, leaf)
    buttons = {a["title"]: a for a in sent_cards(records)[-1]["actions"]}
    assert buttons["Done"].get("style") == "positive"
    assert "style" not in buttons["It failed"]  # default: not the red 'destructive'


async def test_the_completion_card_links_to_the_learn_pages(admin, playbook):
    leaf_id = next(k for k, v in EXPECTED.items() if v[3] == "self_service")
    onprem, entra, mailbox, *_ = EXPECTED[leaf_id]
    walk = await walk_leaf(admin, playbook, {"onprem": onprem, "entra": entra, "mailbox": mailbox})
    ending = sent_cards(walk.records)[-1]
    links = {a["title"]: a["url"] for a in ending["actions"] if a["type"] == "Action.OpenUrl"}
    assert links == LEARN_PAGES
    assert "Search Microsoft Learn" not in walk.ending_text


def test_a_link_that_is_not_https_is_refused():
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["closing"]["links"] = [{"title": "Learn", "url": "http://learn.microsoft.com/"}]
    with pytest.raises(PlaybookError, match="closing, link 'Learn': the url must start with https://"):
        build_playbook(raw)


# --- 11. re-asks and synonyms ---------------------------------------------------------------


async def test_an_unrecognised_answer_lists_the_options_once(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = await admin.say("purple")
    [reply] = [r.activity["text"] for r in records]
    assert reply == (
        "I did not understand 'purple'. Choose 1. Deleted, 2. Present (synced) or 3. No on-premises AD. "
        "You can also say 'back', 'change an answer', 'cancel' or 'help'."
    )


async def test_done_without_the_answer_a_step_asks_lists_its_options_once(admin, playbook):
    leaf = leaf_where(playbook, lambda x: no_own_questions(x) and any(s.ask and plain(s) for s in x.steps))
    step = next(s for s in leaf.steps if s.ask and plain(s))
    question = playbook.subquestions[step.ask]
    await answer_questions(admin, playbook, leaf)
    await advance_until(admin, playbook, lambda c: title_of(c).endswith(step.title))
    [reply] = [r.activity["text"] for r in await admin.say("done")]
    assert reply.startswith("Done, with which answer? " + question.prompt)
    for n, option in enumerate(question.options, start=1):
        assert reply.count(f"{n}. {option.label}") == 1
    assert reply.count("Choose") == 1


@pytest.mark.parametrize(
    ("question", "typed", "label"),
    [
        (0, "cloud only", "No on-premises AD"),
        (0, "in the recycle bin", "Deleted"),
        (1, "gone", "Hard-deleted"),
        (1, "recycle bin", "Soft-deleted"),
        (1, "purged", "Hard-deleted"),
        (2, "Purged.", "Not present (purged)"),
    ],
)
async def test_common_words_answer_a_question(admin, question, typed, label):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    for earlier in ("Present (synced)", "Present")[:question]:
        await admin.press(earlier)
    records = await admin.say(typed)
    assert f"Answer: {label}" in joined(records)


async def test_an_ambiguous_word_lists_the_options_instead_of_guessing(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.press("Deleted")
    [reply] = [r.activity["text"] for r in await admin.say("deleted")]  # soft or hard? Entra keeps both
    assert reply == (
        "I did not understand 'deleted'. Choose 1. Present, 2. Soft-deleted or 3. Hard-deleted. "
        "You can also say 'back', 'change an answer', 'cancel' or 'help'."
    )


def test_a_word_that_would_name_two_options_is_refused():
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    options = raw["questions"]["entra"]["options"]
    options[1]["synonyms"] = ["deleted"]
    options[2]["synonyms"] = ["deleted"]
    with pytest.raises(PlaybookError, match="question 'entra': 'deleted' would mean both 'soft_deleted' and 'hard_deleted'"):
        build_playbook(raw)
