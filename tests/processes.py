"""Real processes for the tests: the bot started as `python app.py`, and Azurite."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Azurite's well-known development account (public, the same for every Azurite).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {timeout} s")


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if it does not go within ten seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class BotProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = int(env.get("PORT") or free_port())
        # The questions path unless the test turns the diagnostics on (as tests/conftest.py's settings).
        self.env = {**os.environ, "PORT": str(self.port), "PYTHONUNBUFFERED": "1", "DIAGNOSTICS": "false", **env}
        self.env["PORT"] = str(self.port)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def start(self) -> BotProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_until(self._healthy, 30, "the bot")
        return self

    def kill(self) -> None:
        """kill -9: no shutdown handler runs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        stop(self.process)


class AzuriteProcess:
    """Azurite's blob service; with `tls=(cert, key)` over HTTPS and with Entra OAuth
    (`--oauth basic`: bearer tokens checked for issuer, audience and lifetime, keys still accepted)."""

    def __init__(self, location: Path, port: int | None = None, tls: tuple[str, str] | None = None) -> None:
        self.location = location
        self.port = port or free_port()
        self.tls = tls
        self.process: subprocess.Popen | None = None

    @property
    def account_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};"
        )

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Azurite exited with {self.process.returncode}")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> AzuriteProcess:
        binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
        if not binary.exists() or shutil.which("node") is None:
            raise AssertionError("Azurite is not installed: run the README's test command (scripts/test.sh)")
        self.location.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(binary),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--location",
                str(self.location),
                "--loose",
                "--disableTelemetry",
                "--silent",
                "--skipApiVersionCheck",
                *(["--cert", self.tls[0], "--key", self.tls[1], "--oauth", "basic"] if self.tls else []),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, 30, "Azurite")
        return self

    def stop(self) -> None:
        stop(self.process)
