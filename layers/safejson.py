"""JSON for folium pages that Jinja cannot execute.

branca compiles every rendered script/html part of a folium map as a *Jinja template* again
(``Element(script_output)`` → ``jinja2.Template``), so text such as ``{{ … }}`` coming from a
file — a value, a field or a layer name — would be evaluated on the server (it can reach
Python's ``os``). No data may carry ``{{``, ``{%`` or ``{#``: JSON writes such a brace as
``\\u007b`` (structural JSON never has ``{`` before ``{``, ``%`` or ``#``, so only string
content changes, and the decoded value is the same); HTML text has ``&#123;``
(``geo.text.escape``).

Since ``layers.literal`` no figure part is compiled a second time; this stays as a second,
independent defence (each alone keeps a map's text inert: tests/test_template_injection.py).
"""
from __future__ import annotations

import json
import re
from typing import Any

_JINJA_START = re.compile(r"\{(?=[{%#])")


def jinja_inert_json(text: str) -> str:
    """JSON text with every ``{`` that would open a Jinja tag written as ``\\u007b`` (same value)."""
    return _JINJA_START.sub(r"\\u007b", text)


def inert_dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` whose output is Jinja-inert (for the template environment's ``tojson``)."""
    return jinja_inert_json(json.dumps(obj, **kwargs))
