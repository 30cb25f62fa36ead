"""The API's request parsers.

Apart from api.py on purpose: DRF reads DEFAULT_PARSER_CLASSES while `rest_framework.views` is
being imported, and api.py imports that module, so a parser defined there is not yet defined.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class BodyNotAnObject(exceptions.ParseError):
    """A JSON body that parses but is a list, a string, a number or null."""


class ObjectJSONParser(JSONParser):
    """Every JSON endpoint of ours takes an object: anything else is refused here, once.

    Without it, `request.data` may be a list or a string, and a view that calls `.get()` on it
    answers 500 instead of 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise BodyNotAnObject()
        return data
