"""What several browser journeys do the same way: keyboard focus, card fields, waiting for the
webhook, and the phone calendar's whole-word check."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

# Chromium's own words in French (validation bubbles, "Choisir un fichier") come with Debian's
# chromium-l10n package (its locales/fr.pak); without it they stay English.
_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FRENCH_CHROMIUM = any(
    (folder / "locales" / "fr.pak").exists()
    for folder in (Path("/usr/lib/chromium"), Path(_CHROMIUM or "/").resolve().parent)
)

CARD_ELEMENT = "#card-element"  # localstripe's stand-in for Stripe's iframe: not ours to audit

# Stripe's test cards, as localstripe knows them (scripts/localstripe_server.py).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_3DS = "4000002500003155"  # asks for 3-D Secure (localstripe's pop-up)


def focus_by_tab(page, selector: str, limit: int = 80) -> None:
    """Press Tab from where the focus is until `selector` has it (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} never got the focus after {limit} Tab presses")


def fill_card(page, number: str) -> None:
    fields = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123"}
    for name, value in fields.items():
        page.locator(f'{CARD_ELEMENT} input[placeholder="{name}"]').fill(value)


def reload_until(page, text: str, timeout: float = 20.0) -> None:
    """The return page shows what our database knows: reload until the webhook has arrived."""
    deadline = time.monotonic() + timeout
    while text not in page.locator("main").inner_text():
        assert time.monotonic() < deadline, (
            f"still no {text!r}: {page.locator('main').inner_text()}"
        )
        time.sleep(0.2)
        page.reload()


# Every visible note of the calendar: no word cut in two (a word's text spans one line), nothing
# wider than its cell, and no style that allows a cut without a hyphen.
BROKEN_WORDS_JS = """
selector => {
  const problems = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length) continue;  // not displayed at this width
    const style = getComputedStyle(el);
    if (style.wordBreak === 'break-all' || style.overflowWrap === 'anywhere'
        || style.overflowWrap === 'break-word' || style.wordBreak === 'break-word') {
      problems.push(`${style.wordBreak}/${style.overflowWrap} on "${el.textContent.trim()}"`);
    }
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push(`"${el.textContent.trim()}" is wider than its box`);
    }
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0)
                                .map(r => Math.round(r.top)));
        if (lines.size > 1) problems.push(`"${m[0]}" cut across lines in "${el.textContent.trim()}"`);
      }
    }
  }
  return problems;
}
"""


def broken_words(page, selector: str) -> list[str]:
    return page.evaluate(BROKEN_WORDS_JS, selector)
