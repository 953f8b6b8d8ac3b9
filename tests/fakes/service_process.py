"""The real service as a separate process (``tepsa serve``), for tests that kill and restart it.

The process's output goes to a log file (never a pipe nobody reads), it runs in
its own temporary directory (no ``.env``, no key file in the repository) and
only sees the ``TEPSA_*`` variables the test gives it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TEPSA_BIN = Path(sys.executable).with_name("tepsa")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    def __init__(self, env: dict[str, str], workdir: Path, name: str = "tepsa"):
        self.env = env
        self.workdir = workdir
        self.name = name
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_path(self) -> Path:
        return self.workdir / f"{self.name}-{self.starts}.log"

    def start(self, timeout: float = 45.0) -> "ServiceProcess":
        """Start on a fresh free port and wait until /readyz answers 200."""
        self.starts += 1
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEPSA_")}
        env.update(self.env)
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(), "wb")
        try:
            cmd = [str(TEPSA_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            if not TEPSA_BIN.exists():
                cmd = [sys.executable, "-m", "tepsa.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                r = httpx.get(self.url + "/readyz", timeout=2.0)
                if r.status_code == 200:
                    return
                last = r.status_code
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s (last: {last}):\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, as a crash or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        out = []
        for n in range(1, self.starts + 1):
            path = self.workdir / f"{self.name}-{n}.log"
            if path.exists():
                out.append(f"--- {path.name}")
                out.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(out)
