"""Benchmark: the bot against a bare echo bot on the same SDK, under the same simulated Teams load.

    .venv/bin/python bench/run.py                 # full run: 50 and 10 concurrent, 20,000 turns
    .venv/bin/python bench/run.py --quick         # a short run to try it
    .venv/bin/python bench/run.py --faults        # also kill/restart the bot and throttle replies
    .venv/bin/python bench/run.py --history-only  # only the long-history figure (1 case vs 301)

Each simulated admin walks a whole scenario (start, a UPN, three answers on cards, every step
Done) over HTTP, as Teams sends it; replies reach a connector on loopback, and a reply's latency is
from the POST to its arrival there. Figures go to bench/results.json and the top of bench/RESULTS.md
(its sections, `## History` and the turns to the first command, are kept).
Not part of the test run: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results_md import write_figures  # noqa: E402
from tests.processes import BotProcess, free_port, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
REPLY_TO = re.compile(rb'"replyToId":\s*"([^"]+)"')
CASE = re.compile(rb'"case":\s*"(MR-(?:[A-Z0-9]{8}|[A-Z0-9]{6}))"')
UPN = "bench.user@contoso.com"
GUID = "0f1e2d3c-4b5a-4968-8776-655443322110"


# --- the process being measured ------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


# --- a loopback connector that timestamps replies -------------------------------------------


@dataclass
class Connector:
    arrivals: dict[str, float] = field(default_factory=dict)  # replyToId -> first reply time
    throttle: float = 0.0  # share of replies answered 429/503 (fault mode)
    tickets: dict[str, int] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)  # conversation -> the case its buttons name
    replies: int = 0
    refused: int = 0
    url: str = ""
    runner: web.AppRunner | None = None

    async def reply(self, request: web.Request) -> web.Response:
        if self.throttle and random.random() < self.throttle:
            self.refused += 1
            return web.json_response({"error": {"code": "Throttled"}}, status=random.choice([429, 503]))
        raw = await request.read()  # not parsed: the load generator must not be what is measured
        self.replies += 1
        case = CASE.search(raw)  # as Teams does, a click carries the case its card's button names
        if case:
            self.cases.setdefault(request.match_info["c"], case.group(1).decode())
        found = REPLY_TO.search(raw)
        if found:
            reply_to = found.group(1).decode()
            self.arrivals.setdefault(reply_to, time.perf_counter())
        return web.Response(body=b'{"id":"%s"}' % uuid.uuid4().hex.encode(), content_type="application/json")

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        card = body["activity"]["attachments"][0]["content"]
        case = next((a["data"]["case"] for a in card.get("actions", []) if a.get("type") == "Action.Submit"), "?")
        self.tickets[case] = self.tickets.get(case, 0) + 1
        return web.json_response({"id": f"19:support;messageid={uuid.uuid4().hex}", "activityId": uuid.uuid4().hex})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{c}/activities", self.reply)
        app.router.add_post("/v3/conversations/{c}/activities/{a}", self.reply)
        app.router.add_put("/v3/conversations/{c}/activities/{a}", self.reply)
        app.router.add_get("/v3/conversations/{c}/members/{u}", lambda r: web.json_response({"id": r.match_info["u"]}))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/"


# --- simulated admins --------------------------------------------------------------------------

SCENARIO = [  # leaf C6: no on-prem AD, Entra soft-deleted, mailbox soft-deleted, the user returning; 6 steps
    {"text": "start"},
    {"value": {"action": "upn", "upn": UPN}},
    {"value": {"action": "answer", "question": "onprem", "option": "none"}},
    {"value": {"action": "answer", "question": "entra", "option": "soft_deleted"}},
    {"value": {"action": "answer", "question": "mailbox", "option": "soft_deleted"}},
    {"value": {"action": "answer", "question": "mail_for", "option": "returning"}},
    {"value": {"action": "step", "step": "connect", "result": "done"}},
    {"value": {"action": "step", "step": "connect_graph", "result": "done"}},
    {"value": {"action": "step", "step": "restore_deleted_user", "result": "done", "value.object_id": GUID}},
    {"value": {"action": "step", "step": "check_license", "result": "done"}},
    {"value": {"action": "step", "step": "verify_mailbox", "result": "done"}},
    {"value": {"action": "step", "step": "closing_checklist", "result": "done"}},
]


STEPS = sum(1 for step in SCENARIO if step.get("value", {}).get("action") == "step")


@dataclass
class Load:
    turns: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    scenarios: int = 0
    rss_at: dict[int, int] = field(default_factory=dict)


def activity(connector: Connector, admin: dict, step: dict) -> dict:
    body = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": admin["user"], "name": "Bench Admin", "aadObjectId": admin["aad"]},
        "recipient": {"id": "28:bot", "name": "bot"},
        "conversation": {"id": admin["conversation"], "conversationType": "personal", "tenantId": "bench-tenant"},
        "channelData": {"tenant": {"id": "bench-tenant"}},
        "locale": "en-US",
    }
    if "text" in step:
        body["text"] = step["text"]
    else:
        value = dict(step["value"])
        if admin["conversation"] in connector.cases:
            value["case"] = connector.cases[admin["conversation"]]
        body["value"] = value
    return body


async def post(session, url: str, body: dict, redeliver: bool) -> bool:
    """One POST; with redeliver, the same activity again until it is taken, as Teams does."""
    for attempt in range(40 if redeliver else 1):
        try:
            async with session.post(url, json=body) as response:
                await response.read()
                if response.status in (200, 201):
                    return True
        except aiohttp.ClientError:
            pass
        if redeliver:
            await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
    return False


async def admin_loop(
    session, bot_url, connector, load, stop_at, pid, sample_every, scenario=SCENARIO, track=None, redeliver=False
):
    while load.turns < stop_at:
        aad = str(uuid.uuid4())
        admin = {"user": "29:" + aad, "aad": aad, "conversation": "a:" + uuid.uuid4().hex}
        for step in scenario:
            body = activity(connector, admin, step)
            started = time.perf_counter()
            ok = await post(session, bot_url, body, redeliver)
            load.turns += 1
            if not ok:
                load.errors += 1
            arrived = connector.arrivals.pop(body["id"], None)
            if arrived is not None:
                load.latencies.append(arrived - started)
            if pid and load.turns % sample_every == 0:
                load.rss_at[load.turns] = memory_kb(pid, "VmRSS")
            if track is not None:
                track(admin, step, ok)
        load.scenarios += 1


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(bot_url: str, pid: int, connector: Connector, concurrency: int, turns: int, warmup: int = 300) -> dict:
    connector_limit = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector_limit) as session:
        warm = Load()
        await asyncio.gather(*(admin_loop(session, bot_url, connector, warm, warmup, 0, 10**9) for _ in range(concurrency)))
        load = Load()
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(admin_loop(session, bot_url, connector, load, turns, pid, 1000) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    rss = load.rss_at
    growth = None
    if 5000 in rss and 20000 in rss:
        growth = (rss[20000] - rss[5000]) / rss[5000] * 100
    return {
        "concurrency": concurrency,
        "turns": load.turns,
        "errors": load.errors,
        "seconds": round(elapsed, 2),
        "turns_per_second": round(load.turns / elapsed, 1),
        "p50_ms": round(percentile(load.latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(load.latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(load.latencies, 0.99) * 1000, 1),
        "cpu_ms_per_turn": round(cpu / load.turns * 1000, 2),
        "peak_rss_mb": round(memory_kb(pid, "VmHWM") / 1024, 1),
        "rss_growth_5k_to_20k_percent": None if growth is None else round(growth, 1),
    }


def stored_bytes(sqlite_path: str, cases: int) -> dict:
    with sqlite3.connect(sqlite_path) as db:
        rows = dict(
            db.execute(
                "SELECT CASE WHEN key LIKE 'activities/%' THEN 'dedupe' ELSE 'case' END, SUM(LENGTH(body) + LENGTH(key)) "
                "FROM documents GROUP BY 1"
            )
        )
        # Every walk must have done the work measured: its case complete, every step done.
        walked = completed = 0
        for (body,) in db.execute("SELECT body FROM documents WHERE key LIKE 'cases/%' AND key NOT LIKE '%/index'"):
            case = json.loads(body)
            walked += 1
            done = [s for s in case.get("steps", {}).values() if s.get("status") == "done"]
            completed += case.get("status") == "complete" and len(done) == len(case.get("steps", {})) == STEPS
    return {
        "state_and_transcript_bytes_per_case": round(rows.get("case", 0) / max(cases, 1)),
        "dedupe_record_bytes_per_turn": round(rows.get("dedupe", 0) / max(cases * len(SCENARIO), 1)),
        "cases": walked,
        "cases_complete_with_every_step_done": completed,
    }


HISTORY = 300  # finished cases given to the admin with a long history


async def history_cost(bot_url: str, connector: Connector, sqlite_path: str, turns: int = 80) -> dict:
    """A turn's cost for an admin with one case and for one with 301 (300 finished, written into
    the store as a long-serving admin's would be): the median time of a status turn, and their
    ratio, which should stay near 1 (nothing a turn reads or writes grows with closed cases)."""
    admins = []
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            aad = str(uuid.uuid4())
            admin = {"user": "29:" + aad, "aad": aad, "conversation": "a:" + uuid.uuid4().hex}
            for step in SCENARIO[:2]:
                await post(session, bot_url, activity(connector, admin, step), False)
            admins.append(admin)
        light, heavy = admins
        owner = f"cases/msteams/{heavy['user']}"
        with sqlite3.connect(sqlite_path, timeout=10) as db:
            (body, etag) = db.execute("SELECT body, etag FROM documents WHERE key = ?", (f"{owner}/index",)).fetchone()
            index = json.loads(body)
            for n in range(HISTORY):
                case_id = "MR-" + "".join("23456789ABCDEFGHJKMNPQRSTUVWXYZ"[(n // 31**i) % 31] for i in range(8))
                at = (datetime.now(UTC) - timedelta(days=1, seconds=n)).isoformat(timespec="milliseconds")
                case = {"id": case_id, "owner_id": heavy["aad"], "tenant_id": "bench-tenant", "upn": f"u{n}@contoso.com",
                        "status": "complete", "created_at": at, "updated_at": at, "schema_version": 5}  # fmt: skip
                db.execute(
                    "INSERT OR REPLACE INTO documents (key, etag, body, written) VALUES (?, 1, ?, ?)",
                    (f"{owner}/{case_id}", json.dumps(case), time.time()),
                )
                index["cases"][case_id] = {k: case[k] for k in ("id", "upn", "status", "updated_at", "created_at")}
            db.execute("UPDATE documents SET body = ?, etag = ? WHERE key = ?", (json.dumps(index), etag + 1, f"{owner}/index"))
        await post(session, bot_url, activity(connector, heavy, {"text": "status"}), False)  # the index settles

        took: dict[str, list[float]] = {"light": [], "heavy": []}
        for _ in range(turns):  # alternating, so that a busy moment on the machine weighs on both
            for name, admin in (("light", light), ("heavy", heavy)):
                started = time.perf_counter()
                await post(session, bot_url, activity(connector, admin, {"text": "status"}), False)
                took[name].append(time.perf_counter() - started)
        one, many = (round(percentile(took[name], 0.5) * 1000, 2) for name in ("light", "heavy"))
    return {"one_case_p50_ms": one, "long_history_p50_ms": many, "cases_in_long_history": HISTORY + 1,
            "ratio": round(many / one, 2)}  # fmt: skip


def start_process(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def healthy(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


async def bench(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    connector = Connector()
    await connector.start()
    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.history_only:
        sqlite_path = str(work / "history.sqlite3")
        env = {"STATE_STORE": "sqlite", "SQLITE_PATH": sqlite_path, "TURNS_PER_MINUTE": "0", "LOG_LEVEL": "WARNING"}
        bot = BotProcess(env, work / "history.log").start()
        results["history"] = await history_cost(bot.url, connector, sqlite_path)
        bot.stop()
        return results

    echo_port = free_port()
    echo = start_process([sys.executable, str(ROOT / "bench/echo_bot.py")], {"PORT": str(echo_port)}, work / "echo.log")
    wait_until(lambda: healthy(echo_port), 30, "the echo bot")
    echo_url = f"http://127.0.0.1:{echo_port}/api/messages"
    results["echo"] = {
        "50": await measure(echo_url, echo.pid, connector, 50, args.echo_turns),
        "10": await measure(echo_url, echo.pid, connector, 10, args.echo_turns // 2),
    }
    echo.terminate()
    echo.wait(10)

    sqlite_path = str(work / "bench.sqlite3")
    bot = BotProcess(
        {
            "STATE_STORE": "sqlite",
            "SQLITE_PATH": sqlite_path,
            "TURNS_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
            "LOCAL_SERVICE_URL": connector.url,  # sign-in off: the one connector the bot answers
        },
        work / "bot.log",
    ).start()
    bot_url = bot.url
    results["bot"] = {
        "50": await measure(bot_url, bot.process.pid, connector, 50, args.turns),
        "10": await measure(bot_url, bot.process.pid, connector, 10, args.turns // 4),
    }
    total_turns = results["bot"]["50"]["turns"] + results["bot"]["10"]["turns"] + 600
    results["bot"]["storage"] = stored_bytes(sqlite_path, total_turns // len(SCENARIO))
    results["history"] = await history_cost(bot_url, connector, sqlite_path)
    bot.stop()

    ours, theirs = results["bot"], results["echo"]
    results["ratios"] = {
        "turns_per_second_vs_echo_at_50": round(ours["50"]["turns_per_second"] / theirs["50"]["turns_per_second"], 2),
        "cpu_per_turn_vs_echo_at_50": round(ours["50"]["cpu_ms_per_turn"] / theirs["50"]["cpu_ms_per_turn"], 2),
        "p99_vs_echo_at_10": round(ours["10"]["p99_ms"] / theirs["10"]["p99_ms"], 2),
        "turn_with_301_cases_vs_1": results["history"]["ratio"],
    }
    if args.faults:
        results["faults"] = await fault_run(connector, work, args)
    return results


async def fault_run(connector: Connector, work: Path, args) -> dict:
    """Kill -9 and restart the bot while admins walk and escalate, with 10% of replies throttled."""
    sqlite_path = str(work / "faults.sqlite3")
    env = {
        "STATE_STORE": "sqlite",
        "SQLITE_PATH": sqlite_path,
        "TURNS_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
        "SUPPORT_CHANNEL_ID": "19:support@thread.tacv2",
        "SUPPORT_SERVICE_URL": connector.url,
        "LOCAL_SERVICE_URL": connector.url,
        "TICKET_RETRY_SECONDS": "2",
    }
    port = free_port()
    bot = BotProcess({**env, "PORT": str(port)}, work / "faults.log").start()
    connector.throttle = 0.1
    scenario = [
        *SCENARIO[:6],
        {"text": "escalate"},
        {"value": {"action": "escalation", "description": "bench escalation"}},
        *SCENARIO[6:],
    ]
    recorded: dict[str, dict] = {}

    def track(admin, step, ok):
        if ok and step.get("value", {}).get("action") == "answer":
            recorded.setdefault(admin["aad"], {})[step["value"]["question"]] = step["value"]["option"]

    load = Load()
    async with aiohttp.ClientSession() as session:

        async def chaos():
            for _ in range(args.kills):
                await asyncio.sleep(3)
                bot.kill()
                await asyncio.sleep(0.5)
                bot.start()

        walkers = [
            admin_loop(session, bot.url, connector, load, args.fault_turns, 0, 10**9, scenario, track, True) for _ in range(20)
        ]
        await asyncio.gather(chaos(), *walkers)
    connector.throttle = 0.0
    await asyncio.sleep(5)  # let pending tickets be retried
    bot.stop()
    lost = lost_answers(sqlite_path, recorded)
    return {
        "turns": load.turns,
        "failed_requests": load.errors,
        "replies_refused_429_503": connector.refused,
        "restarts": args.kills,
        "admins": len(recorded),
        "admins_with_a_lost_answer": lost,
        "tickets": len(connector.tickets),
        "tickets_created_twice": sum(1 for n in connector.tickets.values() if n > 1),
    }


def lost_answers(sqlite_path: str, recorded: dict[str, dict]) -> int:
    """Admins whose stored case lacks an answer the bot accepted (HTTP 2xx) from them."""
    stored: dict[str, dict] = {}
    with sqlite3.connect(sqlite_path) as db:
        for key, body in db.execute("SELECT key, body FROM documents WHERE key LIKE 'cases/msteams/%/MR-%'"):
            user = key.split("/")[2].removeprefix("29:")
            stored.setdefault(user, {}).update(json.loads(body).get("answers", {}))
    lost = 0
    for aad, answers in recorded.items():
        have = stored.get(aad, {})
        if any(have.get(q) != a for q, a in answers.items()):
            lost += 1
    return lost


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def history_line(history: dict) -> str:
    return (
        f"- A turn for an admin with {history['cases_in_long_history']} cases / with 1: **{history['ratio']}x** "
        f"(median {history['long_history_p50_ms']} ms / {history['one_case_p50_ms']} ms)"
    )


def markdown(results: dict) -> str:
    if "bot" not in results:  # --history-only
        return f"Measured {results['when']} on {results['machine']}.\n\n{history_line(results['history'])}\n"
    bot, echo, ratios = results["bot"], results["echo"], results["ratios"]
    lines = [
        f"Measured {results['when']} on {results['machine']}.",
        "",
        "| figure | echo bot, 50 conv. | this bot, 50 conv. | echo bot, 10 conv. | this bot, 10 conv. |",
        "|---|---|---|---|---|",
    ]
    for key, label in [
        ("turns_per_second", "turns per second"),
        ("p50_ms", "reply latency p50 (ms)"),
        ("p95_ms", "reply latency p95 (ms)"),
        ("p99_ms", "reply latency p99 (ms)"),
        ("cpu_ms_per_turn", "CPU per turn (ms)"),
        ("peak_rss_mb", "peak RSS (MB)"),
        ("turns", "turns measured"),
        ("errors", "failed requests"),
    ]:
        lines.append(f"| {label} | {echo['50'][key]} | {bot['50'][key]} | {echo['10'][key]} | {bot['10'][key]} |")
    lines += [
        "",
        f"- Turns per second, this bot / echo bot at 50 conversations: **{ratios['turns_per_second_vs_echo_at_50']}x**",
        f"- CPU per turn, this bot / echo bot: {ratios['cpu_per_turn_vs_echo_at_50']}x",
        f"- RSS growth from turn 5,000 to 20,000: {bot['50']['rss_growth_5k_to_20k_percent']} %",
        f"- Stored per case (state and transcript): {bot['storage']['state_and_transcript_bytes_per_case']} bytes; "
        f"de-duplication records: {bot['storage']['dedupe_record_bytes_per_turn']} bytes per turn, kept a day",
        f"- Cases walked: {bot['storage']['cases']}, complete with every step done: "
        f"{bot['storage']['cases_complete_with_every_step_done']}",
        history_line(results["history"]),
    ]
    if bot["storage"]["cases_complete_with_every_step_done"] != bot["storage"]["cases"]:
        lines += ["", "**Not every walk did the work measured (the scenario no longer fits the playbook?): not comparable.**"]
    if "faults" in results:
        f = results["faults"]
        lines += [
            "",
            f"Fault run: {f['turns']} turns, {f['restarts']} kill -9 restarts, {f['replies_refused_429_503']} replies "
            f"refused with 429/503; admins with a lost answer: {f['admins_with_a_lost_answer']} of {f['admins']}; "
            f"tickets: {f['tickets']}, created twice: {f['tickets_created_twice']}.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20_000, help="turns for this bot at 50 conversations")
    parser.add_argument("--echo-turns", type=int, default=6_000)
    parser.add_argument("--quick", action="store_true", help="a short run: 3,000 turns")
    parser.add_argument("--faults", action="store_true", help="also the fault run")
    parser.add_argument("--fault-turns", type=int, default=3_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--history-only", action="store_true", help="only the long-history figure")
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    args = parser.parse_args()
    if args.quick:
        args.turns, args.echo_turns, args.fault_turns, args.kills = 3_000, 2_000, 1_000, 2
    results = asyncio.run(bench(args))
    if args.history_only:
        print(markdown(results))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_figures(markdown(results), args.out / "RESULTS.md")  # its sections (## History) kept
    print(markdown(results))


if __name__ == "__main__":
    main()
