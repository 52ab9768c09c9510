"""The import report (what a read found and did) and the raw layer handed between steps."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
from pyproj import CRS

from geo.i18n import t


@dataclass
class ImportReport:
    """What an import found and did; :meth:`lines` renders it in vi or en."""

    file: str
    format: str = ""
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    crs: str = ""
    crs_basis: str = ""
    crs_params: dict = field(default_factory=dict)
    encoding_basis: str = ""
    encodings: dict[str, str] = field(default_factory=dict)
    partial_encodings: dict[str, list] = field(default_factory=dict)  # {column: [encoding, converted, values]}
    renamed_columns: dict[str, str] = field(default_factory=dict)
    features_in: int = 0
    features: int = 0
    parts: int = 0  # features after mixed-kind features were split into one per kind (0: none split)
    kinds: dict[str, int] = field(default_factory=dict)
    kind: str = ""
    left_out: dict[str, int] = field(default_factory=dict)
    has_z: bool = False
    repaired: int = 0
    dropped_empty: int = 0
    dropped_nonfinite: int = 0
    dropped_bad_coords: int = 0
    dropped_dms_range: int = 0  # minutes or seconds of 60 or more (N21 61.000)
    dropped_dms_range_rows: list[int] = field(default_factory=list)
    dropped_out_of_range: int = 0
    out_of_range_rows: list[int] = field(default_factory=list)
    dropped_rows: list[list] = field(default_factory=list)  # [row number in the file, name value, reason]
    dropped_count: int = 0  # every feature of the file not imported (dropped_rows names at most 200 per step)
    swapped: bool = False
    surveyor_xy: bool = False
    truncated_values: int = 0
    warnings: list[tuple[str, dict]] = field(default_factory=list)
    raster: dict[str, Any] = field(default_factory=dict)

    def warn(self, key: str, **params: Any) -> None:
        """Add a warning (a key in ``[import_report]``)."""
        self.warnings.append((key, params))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable) for storing with a saved layer."""
        d = asdict(self)
        d["warnings"] = [[k, p] for k, p in self.warnings]
        return d

    @property
    def read_count(self) -> int:
        """Features read: those of the file, or the parts they were split into by kind."""
        return self.parts or self.features_in

    @property
    def lost(self) -> int:
        """How many features of the file are not in the result (dropped or left out)."""
        return max(self.read_count - self.features, len(self.dropped_rows)) if self.features_in else 0

    def lost_line(self, lang: str = "vi") -> str:
        """One sentence naming the features that were not imported (row number and name)."""
        named = [f"{r}" + (f" ({n})" if n else "") for r, n, _ in self.dropped_rows[:10]]
        count = max(self.dropped_count, len(self.dropped_rows))
        more = count - len(named)
        rows = ", ".join(named) + (f", … (+{more})" if more > 0 else "")
        return t("import_report.lost", lang, count=count, read=self.read_count, rows=rows)

    @property
    def lossy(self) -> bool:
        """True when some feature of the file was not imported (the other kinds left out of a
        mixed layer read with ``kind`` count too: they are named, and the read is not whole)."""
        return bool(self.dropped_count or self.dropped_rows)

    def warning_texts(self, lang: str = "vi") -> list[str]:
        """The warnings as sentences in ``lang``."""
        return [t(f"import_report.{k}", lang, file=self.file, **p) for k, p in self.warnings]

    def lines(self, lang: str = "vi", warnings: bool = True) -> list[str]:
        """The report as short lines of text in ``lang`` (``warnings=False``: without the
        warning sentences, for a page that shows them separately)."""
        tr = lambda key, **p: t(f"import_report.{key}", lang, **p)
        out = [tr("file", file=self.file), tr("format", format=tr(f"fmt_{self.format}"))]
        if self.layer:
            out.append(tr("layer", layer=self.layer, count=len(self.layers) or 1))
        if self.crs:
            params = {k: v.replace(".", ",") if lang == "vi" and k in ("x", "y") and isinstance(v, str) else v
                      for k, v in self.crs_params.items()}  # vi decimal comma: x 105,710–105,874
            out.append(tr("crs", crs=self.crs, basis=tr(self.crs_basis, **params)))
        if self.encoding_basis:
            out.append(tr("encoding", basis=tr(f"enc_{self.encoding_basis}")))
        for col, enc in self.encodings.items():
            out.append(tr("converted", column=col, encoding=tr(f"encname_{enc}")))
        for col, (enc, n, total) in self.partial_encodings.items():
            out.append(tr("converted_some", column=col, count=n, total=total, encoding=tr(f"encname_{enc}")))
        if self.renamed_columns:
            out.append(tr("renamed", count=len(self.renamed_columns),
                          names=", ".join(self.renamed_columns.values())))
        if self.raster:
            r = self.raster
            out.append(tr("raster", width=r["width"], height=r["height"], bands=r["count"], dtype=r["dtype"]))
            if r.get("total") is not None:
                out.append(tr("raster_total", total=_n(r["total"], lang)))
            return out + (self.warning_texts(lang) if warnings else [])
        if self.parts:
            out.append(tr("features_split", features=self.features, read=self.features_in, parts=self.parts))
        else:
            out.append(tr("features", features=self.features, read=self.features_in))
        if self.kinds:
            out.append(tr("kinds", kinds=", ".join(f"{tr('kind_' + k)} ({_n(v, lang)})" for k, v in self.kinds.items())))
        if self.left_out:
            out.append(tr("split", kind=tr("kind_" + self.kind),
                          others=", ".join(f"{tr('kind_' + k)} ({_n(v, lang)})" for k, v in self.left_out.items())))
        if self.has_z:
            out.append(tr("has_z"))
        if self.repaired:
            out.append(tr("repaired", count=self.repaired))
        if self.dropped_empty:
            out.append(tr("dropped_empty", count=self.dropped_empty))
        if self.dropped_nonfinite:
            out.append(tr("dropped_nonfinite", count=self.dropped_nonfinite))
        if self.dropped_bad_coords:
            out.append(tr("dropped_bad_coords", count=self.dropped_bad_coords))
        if self.dropped_dms_range:
            out.append(tr("dropped_dms_range", count=self.dropped_dms_range,
                          rows=", ".join(str(r) for r in self.dropped_dms_range_rows[:10])))
        if self.dropped_out_of_range:
            out.append(tr("dropped_out_of_range", count=self.dropped_out_of_range,
                          rows=", ".join(str(r) for r in self.out_of_range_rows[:10])))
        if self.dropped_rows:
            out.append(self.lost_line(lang))
        if self.truncated_values:
            out.append(tr("truncated", count=self.truncated_values))
        return out + (self.warning_texts(lang) if warnings else [])


def _n(v: Any, lang: str) -> str:
    from geo.i18n import fmt_number
    return fmt_number(v, lang)


@dataclass
class _Raw:
    """A layer as read, before normalisation."""

    gdf: gpd.GeoDataFrame
    declared: CRS | None = None
    spec_crs: bool = False
    spec_default: CRS | None = None  # what the format implies when the file names no CRS
    raw_text: bool = False  # text read as Latin-1 bytes (no .cpg)
    encoding_basis: str = "auto"
    declared_failed: bool = False  # the file's declared encoding (.cpg …) does not decode its bytes
