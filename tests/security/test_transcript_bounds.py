"""A transcript handed out (to support, the admin, an agent hub) stays bounded however much was
typed into the case (review: 86k turns a day into one case made minutes-long turns and flooded the
support channel); a pasted wall of text is stored cut, and redaction never scans more than that."""

from __future__ import annotations

from bot.storage import MemoryDocumentStore
from bot.support.transcript import MAX_ENTRY, MAX_TRANSCRIPT, Entry, TranscriptStore


async def test_a_long_transcript_is_handed_out_as_its_latest_part_with_a_line_saying_so():
    store = TranscriptStore(MemoryDocumentStore())
    for n in range(200):
        await store.append(
            "MR-ABCDEF", [Entry(f"2026-11-25T17:{n // 60:02d}:{n % 60:02d}.000+00:00", "admin", f"#{n} " + "x" * 995)]
        )
    entries = await store.read("MR-ABCDEF")
    assert sum(len(e.text) for e in entries) <= MAX_TRANSCRIPT + 200
    assert entries[0].text.startswith("[") and "earlier transcript entries left out" in entries[0].text
    assert entries[-1].text.startswith("#199 ")  # the most recent part is the part kept
    everything = await store.read("MR-ABCDEF", max_chars=10**9)
    assert len(everything) == 200 and everything[0].text.startswith("#0 ")


async def test_a_pasted_wall_of_text_is_stored_cut_and_still_redacted():
    store = TranscriptStore(MemoryDocumentStore())
    await store.append("MR-ABCDEF", [Entry("2026-11-25T17:00:00.000+00:00", "admin", "password: Hunter2! " + "eyJa-" * 60_000)])
    (entry,) = await store.read("MR-ABCDEF")
    assert len(entry.text) <= MAX_ENTRY and "Hunter2!" not in entry.text
