"""End to end in the Microsoft 365 Agents Playground: the bot as a process, the Playground pointed
at it, headless Chromium clicking through as an admin. Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess

import pytest

from tests.processes import ROOT, BotProcess, free_port, wait_until

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
UPN = "o'brien@contoso.com"
GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"


@pytest.fixture
def playground(tmp_path):
    # One admin walks three cases in a minute: faster than the per-user rate limit allows a person.
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "state.sqlite3"), "TURNS_PER_MINUTE": "0"}
    env |= {"WAIT_SCALE": "0.002", "REMINDER_POLL_SECONDS": "0.5"}  # a 30-minute wait lasts 3.6 seconds
    port = free_port()
    # Sign-in off: the bot answers only the Playground's own connector (its serviceUrl on its port).
    env["LOCAL_SERVICE_URL"] = f"http://localhost:{port}/_connector"
    bot = BotProcess(env, tmp_path / "bot.log").start()
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
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, 60, "the Agents Playground")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        bot.stop()


def test_an_admin_walks_a_leaf_and_escalates_another_in_the_playground(playground):
    assert shutil.which("chromium"), "Debian's chromium is needed: the README's test command installs it"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    run = subprocess.run(
        ["node", str(ROOT / "tests/e2e/playground_walkthrough.js"), playground, str(ARTIFACTS), UPN, GUID],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(run.stdout or "{}")
    assert run.returncode == 0, f"{result.get('error')}\n{run.stderr[-2000:]}"
    screen = {stage["name"]: stage["text"] for stage in result["stages"]}

    assert "never ask for a password" in screen["welcome"]
    first = screen["first-question-with-check"]
    assert "Question 1 of up to 5: What is the current state of the user's on-premises Active Directory account?" in first
    assert "Get-ADUser -Filter 'userPrincipalName -eq ''o''''brien@contoso.com'''" in first  # filled in, on screen
    answered = screen["answered-cards"]
    assert "Answer: No on-premises AD" in answered and "Answer: Soft-deleted" in answered
    plan = screen["plan-and-first-step"]
    assert "Your recovery plan" in plan and "scenario C6" in plan and "Recoverable" in plan and "Step 1 of 4" in plan
    command = screen["step-with-command"]
    assert "Restore-MgDirectoryDeletedItem" in command
    assert "[regex]::Escape('o''brien@contoso.com')" in command  # visible, not only in the payload
    assert "Congratulations! Your scenario is complete." in screen["scenario-complete"]
    escalated = screen["escalated"]
    assert "is ready for support" in escalated and "No support team is connected" in escalated
    refused = {stage["name"]: stage for stage in result["stages"]}["a4-done-refused"]
    assert "Not done yet: paste the ExchangeGuid of the soft-deleted mailbox" in refused["text"]
    remove = {stage["name"]: stage for stage in result["stages"]}["a4-remove-mailbox"]
    assert f"Remove-Mailbox -Identity '{GUID}'" in remove["text"]  # by the recorded ExchangeGuid, never a name
    assert f"Get-Mailbox -SoftDeletedMailbox -Identity '{GUID}'" in remove["text"] and "from step" not in remove["text"]
    # On screen only the current step has buttons: the earlier step cards were made read-only.
    assert remove["buttons"] == {"Done": 1, "It failed": 1, "I have recorded them": 0}
    assert remove["text"].count("Done at ") >= 3 + 4  # A4's first three steps, and C6's four
    reminder = screen["reminder-arrived"]
    assert "The 30-minute wait for MR-" in reminder and "(third.user@contoso.com) is over" in reminder
    assert "Remind me in 30 minutes" in reminder and "It is still running" in reminder
    assert len(list(ARTIFACTS.glob("*.png"))) == len(result["stages"])
