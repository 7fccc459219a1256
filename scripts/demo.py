"""``make demo``: the whole Meltano pipeline against a local sandbox store, start to finish.

1. Meltano gets its own virtualenv (``.venv/meltano``) and installs both plugins from
   this checkout (``meltano install``).
2. A sandbox Magento store starts on http://127.0.0.1:8765 with a few hundred orders
   in several store views (``magento2-sandbox``; the ``dev`` environment points there).
   Like an untouched Magento 2.4.4+ store it refuses the integration token as a Bearer
   token, so the pipeline signs every request with OAuth 1.0a and the Integration's
   four keys, the way that works on a new store.
3. ``meltano run tap-magento2 target-dropstream`` loads the paid orders into the dev
   fulfillment store, holding orders placed in the last hour (delay_minutes).
4. ``meltano invoke target-dropstream:status`` shows where every order stands.

The sandbox is always stopped at the end: on success, on failure and on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from scripts.meltano_venv import PROJECT_ROOT, MeltanoInstallError, ensure_meltano

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 8765  # the port meltano.yml's dev environment uses
SANDBOX_URL = f"http://{SANDBOX_HOST}:{SANDBOX_PORT}"
SANDBOX_ORDERS = 300
SANDBOX_SEED = "1"  # the dev environment's four OAuth keys are this seed's sandbox keys
OAUTH_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
DELAY_MINUTES = 60
DEV_STATE_ID = "dev:tap-magento2-to-target-dropstream"
DEV_STORE = PROJECT_ROOT / "dropstream-dev.db"  # meltano.yml: dev database_url


class DemoError(RuntimeError):
    """A step failed; the message says what to do about it."""


def say(text: str) -> None:
    """One line for the person watching."""
    print(text, flush=True)  # noqa: T201 - the demo talks to the person running it


def step(number: int, text: str) -> None:
    say(f"\n==> [{number}/5] {text}")


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit so ``finally`` blocks still stop the sandbox."""

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def meltano_env() -> dict[str, str]:
    """The environment for Meltano: dev environment, no usage tracking, no stray settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_MAGENTO2", "TARGET_DROPSTREAM", "MELTANO_"))
    }
    env["MELTANO_ENVIRONMENT"] = "dev"
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def run_meltano(meltano: Path, args: Sequence[str], env: dict[str, str], what: str) -> None:
    """Run a meltano command with its output shown; raise DemoError when it fails.

    If the demo itself is interrupted, Meltano is asked to stop too (it then stops the
    tap and target) instead of being left running.
    """
    process = subprocess.Popen([str(meltano), *args], cwd=PROJECT_ROOT, env=env)
    try:
        returncode = process.wait()
    except BaseException:
        terminate(process)
        raise
    if returncode != 0:
        msg = f"{what} failed (meltano {' '.join(args)} exited {returncode}); see above"
        raise DemoError(msg)


def terminate(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@contextlib.contextmanager
def running_sandbox() -> Iterator[dict[str, str]]:
    """Start ``magento2-sandbox`` on the dev port and stop it whatever happens."""
    if port_in_use(SANDBOX_HOST, SANDBOX_PORT):
        msg = (
            f"Something already listens on {SANDBOX_HOST}:{SANDBOX_PORT}, the port of the dev "
            "environment. Stop it (an earlier magento2-sandbox?) and run `make demo` again."
        )
        raise DemoError(msg)
    executable = Path(sys.executable).parent / "magento2-sandbox"
    command = [
        str(executable),
        "--port",
        str(SANDBOX_PORT),
        "--orders",
        str(SANDBOX_ORDERS),
        "--seed",
        SANDBOX_SEED,
    ]
    with tempfile.TemporaryFile("w+") as log:
        # Same process group: Ctrl-C reaches the sandbox too, and `stop` makes sure.
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        try:
            yield wait_until_listening(process, log)
        finally:
            stop(process)


def wait_until_listening(
    process: subprocess.Popen[str], log: IO[str], timeout: float = 30
) -> dict[str, str]:
    """Wait for the sandbox's start line; return the four OAuth keys it prints."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        output = log.read()
        if process.poll() is not None:
            msg = f"magento2-sandbox exited with code {process.returncode}:\n{output.strip()}"
            raise DemoError(msg)
        keys = dict(re.findall(r"(\w+)=(\S+)", output))
        if set(OAUTH_KEYS) <= set(keys) and port_in_use(SANDBOX_HOST, SANDBOX_PORT):
            return {name: keys[name] for name in OAUTH_KEYS}
        time.sleep(0.2)
    msg = f"magento2-sandbox did not start listening on port {SANDBOX_PORT} within {timeout:.0f} s"
    raise DemoError(msg)


def store_view_codes(keys: dict[str, str]) -> dict[int, str]:
    """Store view id -> code, as the sandbox store reports them (an OAuth-signed GET)."""
    import requests

    from magerest.auth import OAuth1Auth

    response = requests.get(
        f"{SANDBOX_URL}/rest/V1/store/storeViews",
        auth=OAuth1Auth(**keys),
        headers={"Accept": "application/json"},
        timeout=10,
    )
    response.raise_for_status()
    return {int(view["id"]): str(view["code"]) for view in response.json()}


def stop(process: subprocess.Popen[str]) -> None:
    """Stop the sandbox and say so."""
    terminate(process, timeout=10)
    say(f"Sandbox store stopped ({SANDBOX_HOST}:{SANDBOX_PORT} is free again).")


def summary(codes: dict[int, str]) -> None:
    """What is in the dev fulfillment store now, in plain words."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{DEV_STORE}")
    try:
        with engine.connect() as conn:
            by_state = dict(
                conn.execute(
                    text("SELECT state, COUNT(*) FROM fulfillment_orders GROUP BY state")
                ).all()
            )
            by_store = dict(
                conn.execute(
                    text("SELECT store_id, COUNT(*) FROM fulfillment_orders GROUP BY store_id")
                ).all()
            )
            lines = conn.execute(text("SELECT COUNT(*) FROM fulfillment_lines")).scalar_one()
    finally:
        engine.dispose()
    total = sum(by_state.values())
    views = ", ".join(f"{v} in store view {codes.get(k, k)!r}" for k, v in sorted(by_store.items()))
    states = ", ".join(f"{v} {k}" for k, v in sorted(by_state.items()))
    say(
        f"\nWhat happened: the tap read the sandbox's paid (processing) orders, plus those in "
        f"the statuses it follows (on hold, payment review, canceled, closed, complete: the "
        f"target only uses them to stop orders it already has), and the target stored {total} "
        f"orders with {lines} lines to ship: {views}.\n"
        f"Fulfillment states: {states}. Orders placed in the last {DELAY_MINUTES} minutes are "
        f"'held' until their release time; the next run or `meltano invoke "
        f"target-dropstream:release` moves them to 'ready'.\n"
        f"The store is {DEV_STORE.relative_to(PROJECT_ROOT)}; Meltano saved the bookmark under "
        f"the state ID {DEV_STATE_ID} (`.venv/meltano/bin/meltano state get {DEV_STATE_ID}`)."
    )


def real_store_help() -> None:
    say(
        "\nTo run it against a real store:\n"
        "  export MAGENTO_STORE_URL=https://store.example.com\n"
        "  export MAGENTO_CONSUMER_KEY=... MAGENTO_CONSUMER_SECRET=... \\\n"
        "         MAGENTO_ACCESS_TOKEN=... MAGENTO_ACCESS_TOKEN_SECRET=...   "
        "# the Integration's four keys\n"
        "  export DROPSTREAM_DATABASE_URL=postgresql+psycopg://user@db-host:5432/dropstream\n"
        "  .venv/meltano/bin/meltano --environment prod run tap-magento2 target-dropstream\n"
        "(System > Extensions > Integrations shows the four keys. With the access token alone, "
        "sent as a Bearer token, Magento 2.4.4+ needs Stores > Configuration > Services > OAuth "
        "> Consumer Settings > Allow OAuth Access Tokens to be used as standalone Bearer tokens "
        "= Yes.)"
    )


def reset_dev(meltano: Path, env: dict[str, str]) -> None:
    """Start from nothing, so every demo shows a first full load."""
    DEV_STORE.unlink(missing_ok=True)
    subprocess.run(
        [str(meltano), "state", "clear", "--force", DEV_STATE_ID],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        check=False,
    )


def demo() -> None:
    step(1, "Meltano in its own virtualenv (.venv/meltano; the first time takes about a minute)")
    try:
        meltano = ensure_meltano()
    except MeltanoInstallError as exc:
        raise DemoError(str(exc)) from None
    say(f"Using {meltano.relative_to(PROJECT_ROOT)}")
    env = meltano_env()

    step(2, "meltano install: tap-magento2 and target-dropstream from this checkout")
    run_meltano(meltano, ["install"], env, "Installing the plugins")

    step(3, f"Sandbox Magento store on http://{SANDBOX_HOST}:{SANDBOX_PORT}")
    with running_sandbox() as keys:
        codes = store_view_codes(keys)
        say("It refuses Bearer tokens (a new store's default): every request is OAuth-signed.")
        listed = ", ".join(code for view_id, code in sorted(codes.items()) if view_id)
        say(f"{SANDBOX_ORDERS} seeded orders in the store views {listed}.")
        reset_dev(meltano, env)

        step(4, f"meltano run tap-magento2 target-dropstream (delay_minutes={DELAY_MINUTES})")
        run_env = {**env, "TARGET_DROPSTREAM_DELAY_MINUTES": str(DELAY_MINUTES)}
        run_meltano(meltano, ["run", "tap-magento2", "target-dropstream"], run_env, "The run")

        step(5, "meltano invoke target-dropstream:status")
        run_meltano(meltano, ["invoke", "target-dropstream:status"], run_env, "Status")
    summary(codes)
    real_store_help()


def main() -> int:
    stop_on_signals()
    try:
        demo()
    except DemoError as exc:
        say(f"\nThe demo stopped: {exc}")
        return 1
    except KeyboardInterrupt:
        say("\nInterrupted; nothing is left running.")
        return 130
    except SystemExit as stopped:  # SIGTERM / SIGHUP, see stop_on_signals
        say("\nStopped by a signal; nothing is left running.")
        return int(stopped.code or 1)
    say("\nDemo finished.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
