"""Department formats GDAL reads for us: MapInfo TAB/MIF, AutoCAD DXF, ESRI File
Geodatabase, GPX — each checked by content before GDAL sees it (GDAL picks drivers by
content, not by name), then handed to the same CRS, encoding and repair pipeline.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyproj import CRS

from geo.errors import AtlasError
from geo.io._common import _read_ogr, _unreadable
from geo.io._report import ImportReport, _Raw
from geo.io._vector import declared_or_detected

LABELS = {"mapinfo": "MapInfo TAB/MIF", "dxf": "DXF", "gpx": "GPX", "filegdb": "File Geodatabase"}
# MapInfo "!charset" names → Python codecs (MapInfo writes the charset, GDAL recodes only some)
_MAPINFO_CHARSETS = {"windowsvietnamese": "cp1258", "utf-8": "utf-8", "utf8": "utf-8", "windowslatin1": "cp1252",
                     "iso8859_1": "latin-1", "neutral": None, "windowsansi": "cp1252"}
_GPX_LAYERS = ("waypoints", "routes", "tracks")


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _check_content(path: Path, fmt: str, fname: str) -> None:
    """Refuse a file whose first bytes are not those of ``fmt`` (a VRT named .tab …)."""
    if fmt == "filegdb":
        if not any(p.name.lower().endswith(".gdbtable") for p in path.iterdir()):
            raise _unreadable(fname, LABELS[fmt])
        return
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    ok = {"mapinfo": head.startswith((b"!table", b"version")),
          "dxf": head.startswith(b"0") or head.startswith(b"autocad binary dxf"),
          "gpx": head.startswith(b"<") and b"<gpx" in head}.get(fmt, False)
    if not ok:
        raise _unreadable(fname, LABELS[fmt])
    if fmt == "dxf" and not head.startswith(b"autocad binary dxf"):
        check_dxf_blocks(path, fname)
    if fmt == "gpx":  # XML safety as for KML: no DTD, no entities
        from xml.etree.ElementTree import ParseError

        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring
        try:
            fromstring(path.read_bytes(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException:
            raise AtlasError("import_errors.xml_unsafe", file=fname) from None
        except (ParseError, ValueError):
            raise _unreadable(fname, "GPX") from None


def _mapinfo_charset(path: Path) -> str | None:
    tab = path if path.suffix.lower() == ".tab" else path.with_suffix(".mif")
    m = re.search(rb'charset\s+"?([A-Za-z0-9_\-]+)', _head(tab, 8192), re.I)
    return _MAPINFO_CHARSETS.get(m.group(1).decode("ascii").lower()) if m else None


def read_gdal_format(path: Path, fmt: str, fname: str, layer: str | None, encoding: str,
                     report: ImportReport) -> _Raw:
    """Read ``path`` (a MapInfo .tab/.mif, .dxf, .gpx file or a .gdb folder) into a raw layer.

    MapInfo text is read as bytes and decoded with the declared ``!charset`` only when the
    bytes prove it (else detected, like a wrong ``.cpg``); DXF layers become a ``layer``
    column and closed polylines polygons (GDAL's ``CLOSED_LINE_AS_POLYGON``); GPX keeps
    the first non-empty of waypoints, routes, tracks (or ``layer``); a File Geodatabase
    with several feature classes asks for one.
    """
    from geo.io import _isolate, _isolate_child
    label = LABELS[fmt]
    _check_content(path, fmt, fname)
    nbytes = _isolate.data_bytes(path)
    try:  # GDAL's notes (e.g. no iconv for WindowsVietnamese) are muted in the child: ours to handle
        if fmt == "gpx":
            names = _isolate.call(_isolate_child.gpx_layers, str(path), _GPX_LAYERS, fname=fname,
                                  fmt_label=label, nbytes=nbytes)
        else:
            names = _isolate.call(_isolate_child.layer_names, str(path), fname=fname, fmt_label=label,
                                  nbytes=nbytes)
    except AtlasError:
        raise
    except Exception:
        raise _unreadable(fname, label) from None
    report.layers = names
    if layer is not None:
        if layer not in names:
            raise AtlasError("import_errors.layer_not_found", file=fname, layer=layer, layers=", ".join(names[:20]))
    elif len(names) > 1 and fmt != "gpx":
        raise AtlasError("import_errors.choose_layer", file=fname, layers=", ".join(names[:20]))
    elif not names:
        raise AtlasError("import_errors.no_layers", file=fname)
    chosen = layer or names[0]
    report.layer = chosen
    kw: dict = {"layer": chosen}
    declared_enc = None
    if fmt == "mapinfo":
        kw["encoding"] = "latin1"  # bytes as they are: the charset is checked below
        declared_enc = _mapinfo_charset(path)
    if fmt == "dxf":
        kw["CLOSED_LINE_AS_POLYGON"] = "YES"
    gdf = _read_ogr(path, fname, label, **kw)
    declared: CRS | None = gdf.crs
    if declared is not None:
        gdf = gdf.set_crs(None, allow_override=True)
    if fmt == "dxf":
        gdf = gdf.rename(columns={"Layer": "layer"}).drop(
            columns=[c for c in ("SubClasses", "EntityHandle", "PaperSpace", "Linetype") if c in gdf.columns])
    raw = _Raw(gdf, declared=declared, spec_default=CRS.from_epsg(4326) if fmt == "gpx" else None,
               spec_crs=fmt == "gpx")
    if fmt == "mapinfo":
        raw.raw_text = True
        if declared_enc in _GDAL_RECODES:  # GDAL decoded the declared charset itself: its bytes back
            raw.gdf = _undo_recode(raw.gdf, declared_enc)
        if encoding != "auto":
            raw.encoding_basis = "override"
        elif declared_enc is not None:
            declared_or_detected(raw, declared_enc, report, "declared", "charset_wrong", charset=declared_enc)
    return raw


# MapInfo charsets GDAL converts to UTF-8 by itself (asked for Latin-1, we then get UTF-8
# bytes as Latin-1 text); WindowsVietnamese and Neutral it leaves as they are
_GDAL_RECODES = {"cp1252", "latin-1"}


def _undo_recode(gdf, enc: str):
    """The file's own bytes (as Latin-1 text) of values GDAL decoded from ``enc`` to UTF-8,
    so that the declaration can be checked against them; a value that is not such a
    conversion is kept as it is."""
    from geo.io._common import _is_text

    def back(v: Any) -> Any:
        if not isinstance(v, str) or v.isascii():
            return v
        try:
            return v.encode("latin-1").decode("utf-8").encode(enc).decode("latin-1")
        except UnicodeError:
            return v
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and _is_text(out[col]):
            out[col] = out[col].map(back)
    return out.rename(columns={c: back(c) for c in out.columns if c != out.geometry.name})


_DXF_SCAN_BYTES = 32 * 1024 * 1024  # bigger DXF files are left to the reader's processing budget


def dxf_expanded_count(path: Path) -> int:
    """How many drawing objects GDAL would make of a text DXF once every block insert is
    expanded: the entities of the ENTITIES section plus, for each INSERT (× MINSERT rows ×
    columns), the expanded size of its block — counted from the BLOCKS section without
    expanding anything (a block that inserts itself, directly or not, counts once).

    Own code, because GDAL expands blocks with no limit: a 3 KB file whose blocks insert each
    other ten times over eight levels is 10⁸ lines; this count takes milliseconds."""
    lines = path.read_bytes().split(b"\n")
    pairs = zip(lines[0::2], lines[1::2])
    section = b""
    own: dict[bytes, int] = {}
    refs: dict[bytes, list[tuple[bytes, int]]] = {}
    top_entities, top_refs = 0, []
    block: bytes | None = None
    entity: bytes | None = None
    ins: dict[str, bytes | int] = {}

    def close_entity() -> None:
        nonlocal top_entities
        if entity is None:
            return
        if entity in (b"INSERT", b"MINSERT") and ins.get("name"):
            ref = (ins["name"], max(1, int(ins.get("rows", 1))) * max(1, int(ins.get("cols", 1))))
            (refs.setdefault(block, []) if block is not None else top_refs).append(ref)  # type: ignore[arg-type]
        elif block is not None:
            own[block] = own.get(block, 0) + 1
        else:
            top_entities += 1

    prev_was_section = False
    for code_b, value_b in pairs:
        code, value = code_b.strip(), value_b.strip()
        if code == b"0":
            close_entity()
            entity, ins = None, {}
            if value == b"SECTION":
                prev_was_section = True
                continue
            if value in (b"ENDSEC", b"EOF"):
                section, block = b"", None
                continue
            if section == b"BLOCKS":
                if value == b"BLOCK":
                    block, entity = b"", None
                    continue
                if value == b"ENDBLK":
                    block = None
                    continue
            if section in (b"BLOCKS", b"ENTITIES"):
                entity = value
            continue
        if prev_was_section and code == b"2":
            section, prev_was_section = value, False
            continue
        if section == b"BLOCKS" and block == b"" and entity is None and code == b"2":
            block = value
            refs.setdefault(block, [])
            own.setdefault(block, 0)
            continue
        if entity in (b"INSERT", b"MINSERT"):
            try:
                if code == b"2":
                    ins["name"] = value
                elif code == b"70":
                    ins["cols"] = int(value)
                elif code == b"71":
                    ins["rows"] = int(value)
            except ValueError:
                pass
    close_entity()
    memo: dict[bytes, int] = {}

    def size(name: bytes, seen: frozenset) -> int:
        if name in memo:
            return memo[name]
        if name in seen or name not in own:
            return 0
        total = own[name] + sum(m * size(r, seen | {name}) for r, m in refs.get(name, []))
        memo[name] = total
        return total
    return top_entities + sum(m * size(r, frozenset()) for r, m in top_refs)


def check_dxf_blocks(path: Path, fname: str) -> None:
    """Refuse a text DXF whose block inserts expand past the row cap (``ATLAS_MAX_ROWS``)
    before GDAL expands them (``import_errors.dxf_blocks``)."""
    from geo.safezip import Limits
    if path.stat().st_size > _DXF_SCAN_BYTES:
        return
    cap = Limits.from_env().max_rows
    try:
        n = dxf_expanded_count(path)
    except (RecursionError, MemoryError):
        n = cap + 1
    if n > cap:
        raise AtlasError("import_errors.dxf_blocks", file=fname, count=n, cap=cap)
