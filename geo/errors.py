"""One error type for everything a user can get wrong: it carries a catalog key."""
from __future__ import annotations

import errno as _errno
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OsReason:
    """Why the operating system refused a file operation, translated when a message is made
    (``{reason}`` of ``errors.unwritable`` …): never the system's English text inside a
    Vietnamese sentence."""

    errno: int | None
    detail: str = ""

    def i18n_text(self, lang: str) -> str:
        """The reason in ``lang`` (catalog section ``[oserror]``)."""
        from geo.i18n import catalog, t

        name = _errno.errorcode.get(self.errno or -1, "")
        if name and f"oserror.{name}" in catalog():
            return t(f"oserror.{name}", lang)
        return t("oserror.other", lang, name=name or self.detail or "?")

    def __str__(self) -> str:
        return self.i18n_text("en")


def os_reason(exc: BaseException) -> OsReason:
    """The reason of an ``OSError`` (or any exception) for a user message, in every language.

    Parameters
    ----------
    exc
        The exception caught around a file operation; its ``errno`` picks the catalog text,
        an unknown errno or none shows the errno name or the exception type.
    """
    return OsReason(getattr(exc, "errno", None), type(exc).__name__)
