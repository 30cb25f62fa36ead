"""E-mails from French templates: <name>.subject.txt, <name>.txt and <name>.html."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated_email(
    *,
    to: str,
    template: str,
    context: dict,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Render emails/<template>.* with `context` (links built with common.links.absolute_url);
    `attachments`: (file name, content, MIME type) each, e.g. a PDF."""
    subject = render_to_string(f"emails/{template}.subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    message.send()


def plain_name(value: str, *, max_length: int = 60) -> str:
    """A person's name as it may appear in an e-mail to someone else: letters only, short.

    Input: a name a user typed (their profile). Output: the same name keeping letters, spaces,
    hyphens and apostrophes, at most `max_length` characters — no link, address or sentence
    can ride on it under our sender. "" when nothing is left.
    """
    kept = "".join(
        ch if ch.isalpha() or ch in " -'’" else " " for ch in unicodedata.normalize("NFC", value)
    )
    return " ".join(kept.split())[:max_length].strip()
