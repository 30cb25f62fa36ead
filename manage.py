#!/usr/bin/env python
import os
import sys
from pathlib import Path


def default_to_demo_in_a_checkout(environ=os.environ, checkout: Path | None = None) -> None:
    """Run from a source checkout with nothing configured, commands use the demo settings.

    So the README's commands run as written. Anything a deployment sets (MARELLE_ENV, or a
    SECRET_KEY) keeps the production default, and so does a copy of the code without .git (the
    Docker image); the web server (config/wsgi.py) and Celery never take this default, so
    production still refuses to start without its SECRET_KEY, EMAIL_HOST and PUBLIC_BASE_URL.
    """
    checkout = checkout or Path(__file__).resolve().parent
    configured = environ.get("MARELLE_ENV") or environ.get("SECRET_KEY")
    if not configured and (checkout / ".git").exists():
        environ["MARELLE_ENV"] = "demo"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    default_to_demo_in_a_checkout()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
