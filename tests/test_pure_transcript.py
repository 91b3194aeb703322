"""The case transcript support reads: secrets redacted, cards as their text, each message in the
case it concerns, turns kept in order."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import bot.support.transcript
from bot.storage import MemoryDocumentStore
from bot.support.redaction import redact
from bot.support.transcript import (
    FULL,
    MAX_ENTRY,
    MAX_TURNS,
    Entry,
    TranscriptStore,
    TurnTranscript,
    card_text,
    entry,
    format_transcript,
)


def masked(text: str) -> str:
    """redact(text) with each redaction marker, whatever its wording, shown as [...]."""
    return re.sub(r"\[redacted[^\]]*\]", "[...]", redact(text))


@pytest.mark.parametrize(
    "said, shown",
    [
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU here", "token [...] here"),
        ("Authorization: Bearer abcdefghijklmnop0123456789", "Authorization: Bearer [...]"),
        ("and bearer abcdefghijklmnop0123456789 again", "and bearer [...] again"),
        ("password=hunter2hunter2 then", "password=[...] then"),
        ("my Password: 'S3cret!' now", "my Password: [...] now"),
        ('the pwd is "S3cret!" ok', "the pwd is [...] ok"),
        ("client_secret = abc123 and", "client_secret = [...] and"),
        ("API key: k-12345", "API key: [...]"),
        ("access_key=AKIA1234", "access_key=[...]"),
        ("New-MgUser -Password 'Pa55word!' -Enabled", "New-MgUser -Password [...] -Enabled"),
        ('ConvertTo-SecureString -String "Pa55 word" -AsPlainText', "ConvertTo-SecureString -String [...] -AsPlainText"),
        ("-ClientSecret 'abc~def'", "-ClientSecret [...]"),
        ("secret abc8Q~abcdefghijklmnopqrstuvwxyz0123456789 end", "secret [...] end"),
        (
            "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=bXlrZXk=;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=[...];EndpointSuffix=core.windows.net",
        ),
        (
            "https://st.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef&se=1",
            "https://st.blob.core.windows.net/c?sv=2024&sig=[...]&se=1",
        ),
        ("SharedAccessSignature=sv=2024", "SharedAccessSignature=[...]"),
    ],
)
def test_secrets_are_redacted_and_the_rest_of_the_message_kept(said, shown):
    assert masked(said) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Get-Mailbox -Identity 'jane@contoso.com' | Format-List ExchangeGuid",
        "$pw = Read-Host -AsSecureString",
        "New-MgUser -PasswordProfile @{ Password = $pw }",
        "The password policy is fine; a bearer of good news.",
        "Token bucket is empty",
        "eyJ is not a token on its own",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_a_card_reads_as_its_text_facts_commands_and_filled_inputs():
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "TextBlock", "text": "Step 2 of 5"},
            {"type": "TextBlock", "text": ""},
            {"type": "TextBlock"},
            {
                "type": "Container",
                "items": [
                    {
                        "type": "FactSet",
                        "facts": [{"title": "User", "value": "jane@contoso.com"}, {"title": "Wait", "value": "5 min"}],
                    },
                    {
                        "type": "ColumnSet",
                        "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "In a column"}]}],
                    },
                ],
            },
            {
                "type": "CodeBlock",
                "codeSnippet": "Connect-ExchangeOnline\nGet-Mailbox 'jane'",
                "fallback": {"type": "TextBlock", "text": "Connect-ExchangeOnline"},
            },
            {"type": "Input.Text", "id": "exchange_guid", "label": "ExchangeGuid", "value": "1b3f"},
            {"type": "Input.Text", "id": "name", "value": "Jane"},
            {"type": "Input.Text", "id": "empty", "label": "Empty", "value": ""},
            "not an element",
            42,
        ],
        "actions": [{"type": "Action.Submit", "title": "Done"}],
    }
    assert card_text(card).splitlines() == [
        "Step 2 of 5",
        "User: jane@contoso.com",
        "Wait: 5 min",
        "In a column",
        "    Connect-ExchangeOnline",
        "    Get-Mailbox 'jane'",
        "ExchangeGuid: 1b3f",
        "name: Jane",
    ]


def test_a_card_without_a_body_or_with_empty_elements_reads_as_nothing():
    assert card_text({"type": "AdaptiveCard"}) == ""
    assert card_text({"body": [{"type": "CodeBlock"}, {"type": "FactSet"}, {"type": "Container"}]}) == ""


def test_the_incoming_message_goes_to_the_current_case_unless_the_turn_named_one():
    turn = TurnTranscript()
    turn.heard("done")
    turn.said("MR-AAAAAA", "Step 3 of 5")
    turn.said("MR-AAAAAA", "")
    turn.said(None, "cases: MR-AAAAAA, MR-BBBBBB")
    turn.said("MR-BBBBBB", "MR-BBBBBB is open")
    turn.said("MR-AAAAAA", "Well done")
    result = turn.by_case("MR-AAAAAA", "2026-01-01T00:00:00.000+00:00")
    assert {k: [(e.speaker, e.text) for e in v] for k, v in result.items()} == {
        "MR-AAAAAA": [("admin", "done"), ("bot", "Step 3 of 5"), ("bot", "Well done")],
        "MR-BBBBBB": [("bot", "MR-BBBBBB is open")],
    }
    assert result["MR-AAAAAA"][0].at == "2026-01-01T00:00:00.000+00:00"

    turn.incoming_case = "MR-BBBBBB"
    assert [e.text for e in turn.by_case("MR-AAAAAA", "t")["MR-BBBBBB"]] == ["done", "MR-BBBBBB is open"]
    turn.incoming_case = None
    assert [e.text for e in turn.by_case("MR-AAAAAA", "t")["MR-AAAAAA"]] == ["Step 3 of 5", "Well done"]


def test_a_turn_with_no_case_or_no_message_adds_nothing():
    turn = TurnTranscript()
    turn.heard("hello")
    assert turn.by_case(None, "t") == {}
    assert TurnTranscript().by_case("MR-AAAAAA", "t") == {}


def test_an_entry_is_stamped_now_and_the_transcript_reads_one_line_each():
    said = entry("bot", "Hello")
    assert (said.speaker, said.text) == ("bot", "Hello") and said.at > "2026"
    entries = [Entry("t1", "admin", "start"), Entry("t2", "bot", "Which user?")]
    assert format_transcript(entries) == "t1 admin: start\nt2 bot: Which user?"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        self.now += 0.5
        return self.now


async def test_turns_are_stored_redacted_and_cut_and_read_back_in_order(monkeypatch):
    monkeypatch.setattr(bot.support.transcript, "time", SimpleNamespace(time=Clock().time))
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents)
    await store.append("MR-AAAAAA", [Entry("t1", "admin", "start"), Entry("t2", "bot", "password=hunter2 ok")])
    await store.append("MR-BBBBBB", [Entry("t3", "admin", "other case")])
    await store.append("MR-AAAAAA", [Entry("t4", "admin", "x" * (MAX_ENTRY + 50))])
    await store.append("MR-AAAAAA", [])
    assert len(await documents.read_prefix("transcripts/MR-AAAAAA/")) == 2, "one document per turn, none for an empty one"

    entries = await store.read("MR-AAAAAA")
    assert [(e.at, e.speaker) for e in entries] == [("t1", "admin"), ("t2", "bot"), ("t4", "admin")]
    assert "hunter2" not in entries[1].text and entries[1].text.startswith("password=")
    assert entries[2].text == "x" * MAX_ENTRY

    await store.delete(["MR-AAAAAA"])
    assert await store.read("MR-AAAAAA") == []
    assert [e.text for e in await store.read("MR-BBBBBB")] == ["other case"]


async def test_a_long_transcript_is_read_as_its_most_recent_part_after_a_line_saying_how_much_was_left_out(monkeypatch):
    monkeypatch.setattr(bot.support.transcript, "time", SimpleNamespace(time=Clock().time))
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents)
    said = [Entry(f"t{n}", "admin" if n % 2 else "bot", f"{n}" * 10) for n in range(1, 6)]
    for item in said:
        await store.append("MR-AAAAAA", [item])
    assert await store.read("MR-AAAAAA", max_chars=50) == said, "exactly the limit: all of it"
    assert await store.read("MR-AAAAAA", max_chars=30) == [
        Entry("t2", "bot", "[2 earlier transcript entries left out: the transcript is long]"),
        *said[2:],
    ]
    assert await store.read("MR-AAAAAA", max_chars=9) == [
        Entry("t5", "bot", "[5 earlier transcript entries left out: the transcript is long]")
    ]
    assert await store.read("MR-AAAAAA") == said, "the default limit is far above a short transcript"


# --- the per-case turn budget and the key layout -----------------------------------------------


async def test_a_transcript_keeps_max_turns_turns_says_so_at_the_last_and_drops_later_ones(monkeypatch):
    monkeypatch.setattr(bot.support.transcript, "time", SimpleNamespace(time=Clock().time))
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents, max_turns=3)
    ref = "tenant-1/owner-1/MR-ABC23456"
    for n in range(1, 6):
        await store.append(ref, [Entry(f"t{n}a", "admin", f"turn {n}"), Entry(f"t{n}b", "bot", f"reply {n}")])
    assert len(await documents.read_prefix(f"transcripts/{ref}/")) == 3
    assert (await documents.read([f"transcript-counts/{ref}"]))[f"transcript-counts/{ref}"][0] == {"turns": 3}
    entries = await store.read(ref)
    assert [e.text for e in entries] == ["turn 1", "reply 1", "turn 2", "reply 2", "turn 3", "reply 3", FULL.format(turns=3)]
    assert entries[-1] == Entry(
        "t3b",
        "bot",
        "[The transcript of this case is full (3 turns): later turns are not kept. Start a new case to keep a record.]",
    )


async def test_an_empty_turn_is_not_counted_against_the_budget():
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents, max_turns=1)
    await store.append("MR-AAAAAA", [])
    await store.append("MR-AAAAAA", [Entry("t1", "admin", "kept")])
    assert [e.text for e in await store.read("MR-AAAAAA")] == ["kept", FULL.format(turns=1)]


def test_a_store_keeps_a_thousand_turns_unless_told_otherwise():
    assert MAX_TURNS == 1000 and TranscriptStore(MemoryDocumentStore()).max_turns == MAX_TURNS


async def test_each_turn_is_one_document_keyed_by_ref_time_and_a_random_tail(monkeypatch):
    monkeypatch.setattr(bot.support.transcript, "time", SimpleNamespace(time=Clock().time))
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents)
    ref = "tenant-1/owner-1/MR-ABC23456"
    await store.append(ref, [Entry("t1", "admin", "one")])
    await store.append(ref, [Entry("t2", "admin", "two")])
    stored = await documents.read_prefix("transcripts/")
    keys = list(stored)
    assert [re.fullmatch(rf"transcripts/{ref}/(\d{{10}}\.\d{{6}})-[0-9a-f]{{8}}", key).group(1) for key in keys] == [
        "1800000000.500000",
        "1800000001.000000",
    ]
    assert stored[keys[0]] == {"entries": [{"at": "t1", "speaker": "admin", "text": "one"}]}


async def test_a_secret_across_the_cut_is_redacted_whole_before_the_entry_is_cut():
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents)
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU"
    await store.append("MR-AAAAAA", [Entry("t1", "admin", "x" * (MAX_ENTRY - 10) + " " + token + " end")])
    (kept,) = await store.read("MR-AAAAAA")
    assert len(kept.text) == MAX_ENTRY and "eyJ" not in kept.text
    assert kept.text.startswith("x" * (MAX_ENTRY - 10) + " [redacted")


async def test_a_case_numbered_before_v5_also_reads_what_it_wrote_under_its_number_in_time_order():
    documents = MemoryDocumentStore()
    old = "transcripts/MR-ABC234/1700000002.000000-aaaaaaaa"  # sorts before the ref's keys as text
    await documents.write(old, {"entries": [{"at": "2", "speaker": "admin", "text": "under the number"}]}, None)
    ref = "tenant-1/owner-1/MR-ABC234"
    for at, text in (("1", "first"), ("3", "third")):
        key = f"transcripts/{ref}/170000000{at}.000000-bbbbbbbb"
        await documents.write(key, {"entries": [{"at": at, "speaker": "bot", "text": text}]}, None)
    store = TranscriptStore(documents)
    assert [e.text for e in await store.read(ref)] == ["first", "under the number", "third"]
    assert [e.text for e in await store.read("MR-ABC234")] == ["under the number"], "a bare number reads only its own"
    await store.delete([ref])
    assert await documents.read_prefix("transcripts/") == {}


async def test_a_case_numbered_since_v5_reads_only_under_its_ref():
    documents = MemoryDocumentStore()
    await documents.write(
        "transcripts/MR-ABC23456/1700000001.000000-aaaaaaaa",
        {"entries": [{"at": "1", "speaker": "admin", "text": "other owner"}]},
        None,
    )
    store = TranscriptStore(documents)
    ref = "tenant-1/owner-1/MR-ABC23456"
    await store.append(ref, [Entry("2", "admin", "mine")])
    assert [e.text for e in await store.read(ref)] == ["mine"]
    await store.delete([ref])
    assert list(await documents.read_prefix("transcripts/")) == ["transcripts/MR-ABC23456/1700000001.000000-aaaaaaaa"]


async def test_deleting_a_transcript_resets_its_turn_count():
    documents = MemoryDocumentStore()
    store = TranscriptStore(documents, max_turns=1)
    await store.append("t/o/MR-ABC23456", [Entry("1", "admin", "one")])
    await store.delete(["t/o/MR-ABC23456"])
    assert await documents.read_prefix("transcript-counts/") == {}
    await store.append("t/o/MR-ABC23456", [Entry("2", "admin", "again")])
    assert [e.text for e in await store.read("t/o/MR-ABC23456")] == ["again", FULL.format(turns=1)]
