"""An embedded Stripe for the demo: localstripe on the loopback when no Stripe keys are set.

`make demo` (scripts/demo.sh) runs `python -m config.demo_stripe start --webhook-url URL`: it
starts localstripe through the launcher the tests use (scripts/localstripe_server.py: 127.0.0.1
only, a free port, its state in var/localstripe/), registers our webhook endpoint with it (signed
with the demo's webhook secret), and prints the settings as shell `export` lines. The platform
then talks to it exactly as to Stripe: a PaymentIntent created server side, the card confirmed in
the browser by the stripe.js it serves, the wallet credited only by the signed webhook.

With real keys in the environment (any of STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY,
STRIPE_WEBHOOK_SECRET), nothing is started and the settings are left alone.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
LAUNCHER = BASE_DIR / "scripts" / "localstripe_server.py"
STATE_DIR = BASE_DIR / "var" / "localstripe"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
WEBHOOK_NAME = "marelle-demo"

# Test-mode shaped keys: localstripe accepts any sk_…/pk_…; they open nothing at Stripe.
SECRET_KEY = "sk_test_marelle_demo"
PUBLISHABLE_KEY = "pk_test_marelle_demo"
WEBHOOK_SECRET = "whsec_marelle_demo"

REAL_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")


def uses_real_stripe(environ: Mapping[str, str]) -> bool:
    return any(environ.get(name) for name in REAL_KEYS)


def demo_stripe_settings(api_base: str) -> dict[str, str]:
    """The Stripe settings that point the platform at a localstripe serving `api_base`."""
    api_base = api_base.rstrip("/")
    return {
        "STRIPE_API_BASE": api_base,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_JS_URL": f"{api_base}/js.stripe.com/v3/",
    }


def _post(url: str, data: dict[str, str]) -> int:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _answers(api_base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_base}/js.stripe.com/v3/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _ours(pid: int) -> psutil.Process | None:
    """The launcher process with that id, if it is still running (and nothing else)."""
    try:
        process = psutil.Process(pid)
        if str(LAUNCHER) in " ".join(process.cmdline()):
            return process
    except psutil.Error:
        pass
    return None


def stop(state_dir: Path = STATE_DIR) -> None:
    """Stop the localstripe recorded in state_dir/pid (only that process)."""
    pid_file = state_dir / "pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    process = _ours(pid)
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except psutil.TimeoutExpired:
            process.kill()
    pid_file.unlink(missing_ok=True)


def start(
    *, webhook_url: str, state_dir: Path = STATE_DIR, port: int = 0, timeout: float = 15.0
) -> tuple[int, dict[str, str]]:
    """Start localstripe, register `webhook_url` with it; return its pid and the settings."""
    state_dir.mkdir(parents=True, exist_ok=True)
    stop(state_dir)  # one left by a demo that was killed rather than stopped
    port_file = state_dir / "port"
    port_file.unlink(missing_ok=True)
    with open(state_dir / "localstripe.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(LAUNCHER),
                str(state_dir / "state.pickle"),
                str(port),
                str(port_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    (state_dir / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    api_base = ""
    while not (api_base and _answers(api_base)):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(state_dir)
            raise RuntimeError(f"localstripe did not start, see {state_dir / 'localstripe.log'}")
        time.sleep(0.05)
        if not api_base and port_file.exists() and port_file.read_text().strip():
            api_base = f"http://127.0.0.1:{int(port_file.read_text())}"
    status = _post(
        f"{api_base}/_config/webhooks/{WEBHOOK_NAME}",
        {"url": webhook_url, "secret": WEBHOOK_SECRET},
    )
    if status != 200:
        stop(state_dir)
        raise RuntimeError(f"localstripe refused the webhook {webhook_url} ({status})")
    return process.pid, demo_stripe_settings(api_base)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.demo_stripe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    started = commands.add_parser("start", help="start localstripe; print shell exports")
    started.add_argument("--webhook-url", required=True)
    started.add_argument("--port", type=int, default=0)
    commands.add_parser("stop", help="stop the localstripe started by `start`")
    args = parser.parse_args(argv)
    if args.command == "stop":
        stop()
        return
    if uses_real_stripe(os.environ):
        print("# Stripe keys are set: the demo uses Stripe itself.")
        return
    pid, values = start(webhook_url=args.webhook_url, port=args.port)
    for name, value in {**values, "LOCALSTRIPE_PID": str(pid)}.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
