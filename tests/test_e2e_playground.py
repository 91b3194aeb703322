"""End to end in the Microsoft 365 Agents Playground: the bot as a process, the Playground pointed
at it, headless Chromium clicking through as an admin (tests/e2e/playground_walkthrough.js): the
diagnostics pasted back, 'resume', "Change an answer", a wait with 'Not yet' and the reminder's
Continue, the reminders arriving, a destructive step, an escalation. Screenshots land in
test-artifacts/e2e/."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from datetime import UTC, datetime

import pytest

from bot.diagnostics.reading import read_paste
from tests.diagnostics import corpus
from tests.harness import TENANT
from tests.processes import ROOT, BotProcess, free_port, wait_until

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
UPN = corpus.UPN  # o'brien@contoso.com
GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"
OBJECT_ID = "0f1e2d3c-4b5a-4968-8776-655443322110"

# The Playground's own default tenant id (00000000-0000-0000-0000-0000000000001) is not a GUID, so
# no diagnostic could ever be for it: the chats carry the corpus's tenant instead. The Playground
# insists on its whole configuration, with at least five users.
USERS = "".join(
    f"  - id: user-id-{n}\n    name: User {n}\n    userPrincipleName: user{n}@example.com\n"
    f"    aadObjectId: 00000000-0000-0000-0000-00000000002{n}\n    givenName: User\n    surname: N{n}\n"
    f"    email: user{n}@example.com\n"
    for n in range(1, 6)
)
PLAYGROUND_CONFIG = f"""version: "0.1.1"
tenantId: {TENANT}
bot:
  id: 00000000-0000-0000-0000-00000000000011
  name: Test Bot
currentUser:
  id: user-id-0
  name: Alex Wilber
  userPrincipleName: alexw@example.com
  aadObjectId: 00000000-0000-0000-0000-0000000000020
  givenName: Alex
  surname: Wilber
  email: alexw@example.com
users:
{USERS}personalChat:
  id: __PERSONAL_CHAT_ID__
groupChat:
  id: __GROUP_CHAT_ID__
  name: Group Chat
team:
  id: team-id
  name: My Team
  aadGroupId: 00000000-0000-0000-0000-000000000031
  channels:
    - id: channel-announcements-id
      name: Announcements
"""


def pasted_now(name: str, now: datetime) -> str:
    """A corpus case's console output, all places in one paste, as if the diagnostics ran at `now`:
    the bot runs on the real clock and refuses a paste more than two hours old. Only the ReadAt
    of each line changes (the corpus's READ_AT is nowhere else in it)."""
    read_at = now.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    text = "\n".join(paste.replace(corpus.READ_AT, read_at) for paste in corpus.CORPUS[name].pastes.values())
    reading = read_paste(text, upn=UPN, now=now, tenant_id=TENANT)
    assert reading.problems == [] and set(reading.readings) == set(corpus.CORPUS[name].pastes), reading.problems
    return text


@pytest.fixture
def playground(tmp_path):
    # One admin walks three cases in a minute: faster than the per-user rate limit allows a person.
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "state.sqlite3"), "TURNS_PER_MINUTE": "0"}
    env["DIAGNOSTICS"] = "true"  # the product's default (BotProcess defaults to the questions)
    # Waits are scaled: a 30-minute wait lasts 5.4 s, the 3-hour reconnect wait 32.4 s, long enough
    # to press 'Not yet' and come back from its reminder before it is over.
    env |= {"WAIT_SCALE": "0.003", "REMINDER_POLL_SECONDS": "0.5"}
    port = free_port()
    # Sign-in off: the bot answers only the Playground's own connector (its serviceUrl on its port).
    env["LOCAL_SERVICE_URL"] = f"http://localhost:{port}/_connector"
    bot = BotProcess(env, tmp_path / "bot.log").start()
    config = tmp_path / ".m365agentsplayground.yml"
    config.write_text(PLAYGROUND_CONFIG)
    log = (tmp_path / "playground.log").open("wb")
    process = subprocess.Popen(
        [
            str(ROOT / "node_modules/.bin/agentsplayground"),
            "-e",
            bot.url,
            "-c",
            "msteams",
            "-p",
            str(port),
            "--disable-telemetry",
        ],
        cwd=ROOT,
        env={**bot.env, "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the Playground exited with {process.returncode}: see {tmp_path / 'playground.log'}")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, 60, "the Agents Playground")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        bot.stop()


def test_an_admin_walks_three_cases_in_the_playground(playground, tmp_path):
    assert shutil.which("chromium"), "Debian's chromium is needed: the README's test command installs it"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    now = datetime.now(UTC)
    given = {
        "upn": UPN,
        "guid": GUID,
        "legacyDn": corpus.LEGACY_DN,
        "objectId": OBJECT_ID,
        "adObjectGuid": corpus.AD_GUID,
        "pastes": {"C6": pasted_now("C6", now), "A9": pasted_now("A9", now)},
    }
    (tmp_path / "input.json").write_text(json.dumps(given))
    run = subprocess.run(
        ["node", str(ROOT / "tests/e2e/playground_walkthrough.js"), playground, str(ARTIFACTS), str(tmp_path / "input.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(run.stdout or "{}")
    assert run.returncode == 0, f"{result.get('error')}\n{run.stderr[-2000:]}\nscreens: {ARTIFACTS}"
    stages = {stage["name"]: stage for stage in result["stages"]}
    screen = {name: stage["text"] for name, stage in stages.items()}
    last = {name: stage["lastCard"] for name, stage in stages.items()}

    def live(name: str, title: str) -> None:
        """Exactly one `title` button on screen, and it is on the last card in the chat."""
        assert stages[name]["buttons"][title] == 1, (name, stages[name]["buttons"])
        assert stages[name]["lastCardButtons"][title] == 1, (name, stages[name]["lastCardButtons"])

    assert "never ask for a password" in screen["welcome"]

    # 1. C6 with the diagnostics: pasted, read, confirmed with who needs the mail, the first command.
    offered = last["diagnostics-offered"]
    assert "Let me read the state for you" in offered and "$upn = 'o''brien@contoso.com'" in offered
    assert "I'd rather answer the questions" in offered and "MAILBOX-RECOVERY-DIAG" in offered
    read = last["what-i-read"]
    assert read.startswith("What I read") and "For support: route C6" in read
    assert "Entra ID: soft-deleted" in read and "Mailbox: soft-deleted" in read
    assert "Who needs this mailbox's content?" in read and "The user, who is coming back" in read
    assert "Confirm" in read and "That's not right" in read
    plan = screen["c6-plan-and-first-step"]
    assert "Your recovery plan" in plan and "For support: route C6" in plan and "Recoverable" in plan
    assert "Question 1 of" not in plan  # the paste answered the questions, the card who needs the mail
    assert last["c6-plan-and-first-step"].startswith("Step 1 of 6: Connect the Exchange Online window")
    assert "Connect-ExchangeOnline" in last["c6-plan-and-first-step"]
    live("c6-plan-and-first-step", "Done")
    command = last["c6-restore-command"]
    assert command.startswith("Step 3 of 6") and "Restore-MgDirectoryDeletedItem" in command
    assert "[regex]::Escape('o''brien@contoso.com')" in command  # visible, not only in the payload
    assert f"Restore-MgDirectoryDeletedItem -DirectoryObjectId '{corpus.USER_ID}'" in command  # from the paste
    assert "(from your diagnostic at" in command
    live("c6-restore-command", "Done")
    # 'resume' at a step: one live card, the last one in the chat; the one before says so.
    assert last["c6-resumed"].startswith("Step 3 of 6") and "Shown again below: answer there." in screen["c6-resumed"]
    live("c6-resumed", "Done")
    live("c6-resumed", "It failed")
    done = screen["c6-complete"]
    assert "Recovery finished: you confirmed each step" in done and "Congratulations" not in done
    assert stages["c6-complete"]["buttons"]["Done"] == 0

    # 2. A4 by the questions: How do I check?, Change an answer, a refused Done, Remove-Mailbox.
    first = screen["first-question-with-check"]
    assert "What is the current state of the user's on-premises Active Directory account?" in first
    assert "Get-ADUser -Filter 'userPrincipalName -eq ''o''''brien@contoso.com'''" in first  # filled in, on screen
    answered = screen["answered-cards"]
    assert "Answer: Deleted" in answered and "Answer: Hard-deleted" in answered
    assert "For support: route A4" in screen["a4-plan"] and last["a4-plan"].startswith("Step 1 of")
    picker = last["change-answer-picker"]
    assert picker.startswith("Change which answer?")
    assert "Who needs this mailbox's content? — now: The user, who is coming back" in picker
    assert "Change: Who needs this mailbox's content?" in picker
    changed = screen["plan-changed"]
    assert "The plan changed:" in changed and "New: Create a shared mailbox to receive the content" in changed
    assert "Answer: Someone else (a leaver's mail, for HR or a manager)" in changed
    assert last["plan-changed"].startswith("Step 1 of")
    live("plan-changed", "Done")
    refused = last["a4-done-refused"]
    assert refused.startswith("Step 3 of") and "Not done yet: fill in the ExchangeGuid of the soft-deleted mailbox" in refused
    live("a4-done-refused", "Done")
    remove = screen["a4-remove-mailbox"]
    assert f"Remove-Mailbox -Identity '{GUID}'" in remove  # by the recorded ExchangeGuid, never a name
    assert f"Get-Mailbox -SoftDeletedMailbox -Identity '{GUID}'" in remove and "from step" not in remove
    # On screen only the current step has buttons: the earlier step cards were made read-only.
    # (Not necessarily the last card: the reminder of step 3's wait may have come below it.)
    buttons = stages["a4-remove-mailbox"]["buttons"]
    assert (buttons["Done"], buttons["It failed"], buttons["I have recorded them"]) == (1, 1, 0)
    assert remove.count("Done at ") >= 5 + 4  # C6's five steps, and A4's first four
    reminder = last["reminder-arrived"]  # step 3's 60-minute hold wait, over in seconds
    assert reminder.startswith("The 60-minute wait for MR-") and "(o'brien@contoso.com) is over" in reminder
    assert "Remind me in 30 minutes" in reminder and "It is still running" in reminder

    # 3. A9 with the diagnostics: the reconnect wait, 'Not yet', the reminder's Continue.
    waiting = last["wait-step"]
    assert "Wait for the mailbox to reconnect" in waiting and "The wait is not over" in waiting
    live("wait-step", "Done: Yes")
    live("wait-step", "Not yet — remind me in 30 minutes")
    assert stages["wait-step"]["buttons"]["Done: No, still not"] == 0  # not before the wait is over
    assert last["sync-wait-over"].startswith("The 30-minute wait for MR-")
    assert "I will remind you about MR-" in screen["not-yet-reminder"]
    asked = last["not-yet-reminder"]
    assert "You asked me to come back to this case now." in asked and "Wait for the mailbox to reconnect" in asked
    back = last["wait-step-after-continue"]
    assert "Wait for the mailbox to reconnect" in back
    live("wait-step-after-continue", "Done: Yes")
    live("wait-step-after-continue", "It failed")
    shown_again = screen["wait-step-after-continue"].count("Shown again below: answer there.")
    assert shown_again > screen["not-yet-reminder"].count("Shown again below: answer there.")
    assert "is ready for support" in screen["escalated"]

    assert len(list(ARTIFACTS.glob("*.png"))) == len(result["stages"])
