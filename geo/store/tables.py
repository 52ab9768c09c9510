"""Spreadsheet files of the indicator store: reading an import file (CSV/XLSX, every cell as
text or number) and writing a table as CSV/XLSX with spreadsheet formulas neutralised."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo.errors import AtlasError, os_reason
from geo.text import spreadsheet_safe, unneutralise


def read_table(path: str | Path | io.BytesIO, name: str | None = None) -> pd.DataFrame:
    """Read an import file (``.csv`` UTF-8 or ``.xlsx``) with every cell as text/number."""
    name = name or str(path)
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".csv":
            # blank lines kept: rows are numbered as the spreadsheet shows them (validate_frame)
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
            return df.map(unneutralise)   # an export's '=… protection is not part of the value
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=object, engine="openpyxl").map(unneutralise)
    except FileNotFoundError:
        raise AtlasError("store_errors.file_missing", path=name) from None
    except Exception as exc:  # any parse failure is a bad file to the user
        raise AtlasError("store_errors.unreadable_file", path=name, reason=type(exc).__name__) from None
    raise AtlasError("store_errors.bad_format", path=name)


def frame_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """``df`` as CSV (UTF-8 with BOM so Excel shows Vietnamese) or XLSX bytes."""
    if fmt == "csv":
        return spreadsheet_safe(df).to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    spreadsheet_safe(df).to_excel(buf, index=False, engine="openpyxl")   # openpyxl writes "=…" as a formula
    return buf.getvalue()


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``.csv`` or ``.xlsx`` (by extension)."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise AtlasError("store_errors.bad_format", path=str(p))
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(frame_bytes(df, fmt))
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(p), reason=os_reason(exc)) from None
    return p
