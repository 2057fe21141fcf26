"""The local stand-ins that scripts/bench.py and scripts/local_run.py both run the function
against: the child processes (each in its own session, with its own log file), waiting for one
to be ready, dataverse-sim and the URL it announces, the Dataverse secret in moto's Secrets
Manager, and the part of the function's environment that keeps it away from any AWS account.

What only one script needs stays in that script: bench's Runtime API stub and baseline flow,
local_run's deadline proxy and cargo lambda wiring, and how each starts moto.

Standard library and boto3 only (boto3 is imported when a secret is stored).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Callable

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
REGION = "us-east-1"
TENANT = "00000000-0000-0000-0000-000000000000"
# What dataverse-sim's token endpoint accepts.
SIM_CLIENT_ID = "sim-client"
SIM_CLIENT_SECRET = "sim-secret"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StepError(Exception):
    """A step failed; the message says which and what to do."""


class Processes:
    """Child processes started here, each with its own log file. Each runs in its own session
    so that stopping it (by process group id) reaches its children too, and nothing else.

    `startup_seconds` is how long a child may take to become ready, `tail_lines` how much of a
    log an error message quotes; the two scripts differ in both."""

    def __init__(self, log_dir: Path, startup_seconds: int, tail_lines: int) -> None:
        self.log_dir = log_dir
        self.startup_seconds = startup_seconds
        self.tail_lines = tail_lines
        self.started: list[subprocess.Popen] = []
        # Undone before any process is stopped, e.g. a server thread that talks to them.
        self.cleanups: list[Callable[[], None]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
        log = self.log_dir / f"{name}.log"
        out: IO[bytes] = open(log, "wb")
        try:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            raise StepError(f"could not start {name} ({argv[0]}): {error}") from error
        finally:
            out.close()
        self.started.append(process)
        return process, log

    def stop(self, process: subprocess.Popen) -> None:
        _terminate(process)
        _reap(process, timeout=5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        """Undoes the cleanups, then stops every process in reverse order of starting; all are
        signalled first and share one grace period, so a slow one does not delay the rest."""
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()
        for process in reversed(self.started):
            _terminate(process)
        deadline = time.monotonic() + 5
        for process in reversed(self.started):
            _reap(process, timeout=max(0.1, deadline - time.monotonic()))
        self.started.clear()

    def tail(self, log: Path, lines: int | None = None) -> str:
        """The last lines of a log, indented, for an error message; "" if it cannot be read."""
        try:
            text = ANSI.sub("", log.read_text(errors="replace"))
        except OSError:
            return ""
        return "\n".join("    " + line for line in text.splitlines()[-(self.tail_lines if lines is None else lines):])

    def wait_for(
        self,
        what: str,
        ready: Callable[[], object],
        process: subprocess.Popen,
        log: Path,
        late: str = "was not ready after",
    ) -> object:
        """Polls `ready` until it returns something truthy; fails early if the process exits.
        `late` words the time-out message (`{what} {late} {seconds} s`)."""
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            value = ready()
            if value:
                return value
            if process.poll() is not None:
                raise StepError(f"{what} exited with code {process.returncode} before it was ready:\n{self.tail(log)}")
            time.sleep(0.05)
        raise StepError(f"{what} {late} {self.startup_seconds} s:\n{self.tail(log)}")


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _reap(process: subprocess.Popen, timeout: float) -> None:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def announced_url(log: Path) -> str | None:
    """The URL a process printed on a line of its own, as {"url": ...} (dataverse-sim) or bare
    (moto_guard.py), without a trailing slash; None while there is none."""
    try:
        lines = ANSI.sub("", log.read_text(errors="replace")).splitlines()
    except OSError:
        return None
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                return str(json.loads(line)["url"]).rstrip("/")
            except (ValueError, KeyError, TypeError):
                continue  # half written: read again on the next poll
        if line.startswith("http://"):
            return line.rstrip("/")
    return None


def start_sim(
    processes: Processes, sim: Path, args: list[str], name: str = "dataverse-sim", late: str = "was not ready after"
) -> tuple[subprocess.Popen, str]:
    """Starts dataverse-sim on a free port (the kernel picks it) and returns it with its URL."""
    process, log = processes.start(name, [str(sim), "--port", "0", *args])
    url = processes.wait_for("dataverse-sim", lambda: announced_url(log), process, log, late)
    return process, str(url)


def store_secret(moto_url: str, secret_id: str, sim_url: str) -> None:
    """Stores the Dataverse secret the function reads, pointing both Dataverse and Entra ID at
    the simulator."""
    try:
        import boto3
    except ImportError as error:
        raise StepError("boto3 is not installed: run make venv, then use .venv/bin/python") from error
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    secret = {
        "tenant_id": TENANT,
        "client_id": SIM_CLIENT_ID,
        "client_secret": SIM_CLIENT_SECRET,
        "environment_url": sim_url,
        "authority_url": sim_url,
    }
    try:
        client.create_secret(Name=secret_id, SecretString=json.dumps(secret))
    except Exception as error:  # botocore's errors share no useful base class
        raise StepError(f"could not store the secret {secret_id} in moto at {moto_url}: {error}") from error


def function_environment(runtime: dict[str, str], moto_url: str, secret_id: str, rust_log: str) -> dict[str, str]:
    """The function's environment: `runtime` (the Lambda variables) on top of this shell's
    environment, then what makes it read the secret from moto (and write its wake-up there)."""
    # Without any of this shell's AWS settings, so that nothing here can reach a real account.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(runtime)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",  # what the template deploys
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
            # The wake-up (when WAKE_SCHEDULE_NAME is set) goes to moto as well, never to AWS.
            "AWS_ENDPOINT_URL_SCHEDULER": moto_url,
            # So are the lifecycle events (when EVENT_BUS_NAME is set).
            "AWS_ENDPOINT_URL_EVENTBRIDGE": moto_url,
            "DATAVERSE_SECRET_ID": secret_id,
            "RUST_LOG": rust_log,
        }
    )
    return env
