"""The indicator store: values, targets, history and an append-only audit log in the workspace.

One SQLite file — the workspace GeoPackage at ``geo.settings.workspace_path()`` — is shared
with user-imported layers (written by GDAL), so every table here is prefixed ``ind_``, the
file is never replaced as a whole, and every write is one ``BEGIN IMMEDIATE`` transaction
through :meth:`Store.edit` (the one write helper): a crash mid-write leaves the store as it was.

- History: a value is identified by (indicator, unit, period); each save adds a new
  *version*; nothing is updated or deleted (triggers refuse UPDATE/DELETE).
- Optimistic concurrency: a writer states the version it saw (``expected_version``); if
  someone saved in between, ``AtlasError("store_errors.conflict")`` says who and when, the
  attempt is kept in the audit log and nothing is overwritten.
- Writing needs an ``Editor`` (see :mod:`geo.auth`); reading needs nothing.
- Import: a CSV/XLSX file is validated as a whole; every bad row is reported and nothing
  is written unless all rows are valid.

The parts: :mod:`geo.store.storage` (tables, reading, the write helper, audit log),
:mod:`geo.store.values`, :mod:`geo.store.targets`, :mod:`geo.store.validation` (parsing,
row checks, import), :mod:`geo.store.templates` (template and export frames, the XLSX
template), :mod:`geo.store.tables` (reading and writing CSV/XLSX). :class:`Store` joins
them; every name callers used from ``geo.store`` is importable from here.
"""
from __future__ import annotations

from geo.store.storage import APPEND_ONLY_TABLES, GPKG_APPLICATION_ID, Edit, StoreBase, gpkg_core_sql
from geo.store.tables import frame_bytes, read_table, write_table
from geo.store.targets import TargetConflict, TargetsMixin
from geo.store.templates import TemplatesMixin, template_xlsx
from geo.store.validation import (
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    ImportMixin,
    ImportRejected,
    ImportReport,
    RowError,
    blank,
    parse_number,
    parse_period,
)
from geo.store.values import LOWER_BOUND_MARK, ValueConflict, ValuesMixin


class Store(ValuesMixin, TargetsMixin, ImportMixin, TemplatesMixin, StoreBase):
    """The indicator store in the workspace file (``path`` or ``workspace_path()``).

    Values (:class:`~geo.store.values.ValuesMixin`), targets
    (:class:`~geo.store.targets.TargetsMixin`), validation and import
    (:class:`~geo.store.validation.ImportMixin`), template and export frames
    (:class:`~geo.store.templates.TemplatesMixin`) over one storage
    (:class:`~geo.store.storage.StoreBase`: reading, the write helper ``edit``, the audit log).
    """


__all__ = ["APPEND_ONLY_TABLES", "GPKG_APPLICATION_ID", "LOWER_BOUND_MARK", "REQUIRED_COLUMNS", "TEMPLATE_COLUMNS",
           "Edit", "ImportRejected", "ImportReport", "RowError", "Store", "TargetConflict", "ValueConflict", "blank",
           "frame_bytes", "gpkg_core_sql", "parse_number", "parse_period", "read_table", "template_xlsx",
           "write_table"]
