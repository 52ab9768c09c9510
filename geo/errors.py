"""One error type for everything a user can get wrong: it carries a catalog key."""
from __future__ import annotations

from typing import Any


class AtlasError(Exception):
    """A refusal a user can act on. ``key`` names a string in the i18n catalog."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "vi") -> str:
        """The one-sentence message in ``lang`` ("vi" or "en")."""
        from geo.i18n import t

        return t(self.key, lang, **self.params)
