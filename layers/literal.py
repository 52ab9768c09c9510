"""Map text is data, never template source: the one way HTML/script text joins a folium figure.

branca renders each element's ``header``/``html``/``script`` macro and then wraps the
*output* in ``Element(output)`` — which compiles it as a Jinja template a second time
(``MacroElement.render``; folium's ``Popup.render`` does the same with its whole output).
Any text from a user or a file that reached that output — a layer, field or unit name, a
tooltip, a DivIcon's html, a legend title, a layer-control entry, an attribution — was
evaluated on the server (``{{ lipsum.__globals__.os.getpid() }}`` reached ``os``).

:func:`install` (run when :mod:`layers` draws anything) makes both add their rendered output
as a :class:`Literal`, whose text is returned as it is; and :class:`Literal` is how the
atlas's own HTML (legends, credits) joins a figure. ``Element(text)`` compiles ``text``:
never pass it anything built from data (``tests/test_template_injection.py`` scans for it).

The second compile did one legitimate thing: folium's ``GeoJson`` style map writes a
MacroElement used as a style value (e.g. a fill pattern) as ``{{'<its name>'}}`` for the
second pass to unquote; :func:`install` resolves exactly that form for ``GeoJson`` output
(an identifier, nothing evaluated).

Written here, not taken from a library: branca/folium offer no switch for it (branca 0.8.2,
folium 0.20.0); text still goes through ``geo.text.escape`` (HTML) and tojson
(``layers.safejson``, also Jinja-inert) as before, so either layer alone stops the injection.
"""
from __future__ import annotations

import re

from branca.element import Element, Figure, MacroElement
from folium.features import GeoJson
from folium.map import Popup

_STYLE_REF = re.compile(r"\{\{'([A-Za-z_][A-Za-z0-9_]*)'\}\}")  # folium's GeoJsonStyleMapper reference


class Literal(Element):
    """HTML or script text added to a figure exactly as it is (no Jinja compile, ever)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = str(text)

    def render(self, **kwargs: object) -> str:
        """The text, unchanged."""
        return self.text


def _figure_of(element: Element) -> Figure:
    figure = element.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    return figure


def _macro_render(self: MacroElement, **kwargs: object) -> None:
    """``branca.element.MacroElement.render`` with each macro's output added as a Literal."""
    figure = _figure_of(self)
    module = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = module.get(part)
        if macro is not None:
            text = str(macro(self, kwargs))
            if isinstance(self, GeoJson):
                text = _STYLE_REF.sub(r"\1", text)
            getattr(figure, part).add_child(Literal(text), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


def _popup_render(self: Popup, **kwargs: object) -> None:
    """``folium.Popup.render`` with its output added as a Literal."""
    for child in self._children.values():
        child.render(**kwargs)
    _figure_of(self).script.add_child(Literal(self._template.render(this=self, kwargs=kwargs)), name=self.get_name())


def install() -> None:
    """Make branca/folium add rendered output as Literal (idempotent; process-wide)."""
    MacroElement.render = _macro_render  # type: ignore[method-assign]
    Popup.render = _popup_render  # type: ignore[method-assign]


install()
