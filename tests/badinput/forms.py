"""Read the POST forms of a page: where each posts, and the values a browser would send."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self._form, self._select, self._textarea = page, [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {"action": attrs.get("action") or self.page, "data": {}, "names": set()}
            self.forms.append(self._form)
        if self._form is None or (not attrs.get("name") and tag != "option"):
            return
        data, name = self._form["data"], attrs.get("name")
        if tag == "input" and name != "csrfmiddlewaretoken":
            self._form["names"].add(name)
            kind = (attrs.get("type") or "text").lower()
            value = attrs.get("value") or ("on" if kind in ("checkbox", "radio") else "")
            if kind == "checkbox":  # every box ticked: choices filled in, so the rest is reached
                data.setdefault(name, []).append(value)
            elif kind == "radio":
                if "checked" in attrs or name not in data:
                    data[name] = [value]
            elif kind not in ("submit", "button", "file"):
                data.setdefault(name, []).append(value)
        elif tag == "select":
            self._select = name
            self._form["names"].add(name)
        elif tag == "option" and self._select:
            # The selected option, else the first real one ("— Choisir —" would stop the form).
            chosen = data.get(self._select, [""])[0]
            if "selected" in attrs or not chosen:
                data[self._select] = [attrs.get("value") or ""]
        elif tag == "textarea":
            self._textarea = name
            self._form["names"].add(name)
            data[name] = [""]

    def handle_data(self, text):
        if self._form is not None and self._textarea:
            self._form["data"][self._textarea] = [text]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str, page: str) -> list[dict]:
    """[{"action", "data": {name: [values]}, "names": {…}}, …] for each POST form with fields."""
    reader = _FormReader(page)
    reader.feed(html)
    return [form for form in reader.forms if form["names"]]
