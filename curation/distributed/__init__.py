"""Backends of ``curation run``: ``local`` (in this process, the default) and ``ray``.

``create_backend(name)`` builds one; the ray backend imports Ray only when it runs.
Results of a distributed run are Parquet files partitioned by library, loaded into the
store by ``import_parquet`` (docs/scale.md).
"""

from curation.lazy import lazy_exports

# Lazy exports (PEP 562): `curation.settings` imports RaySettings, and the settings must
# not pull the store, pyarrow or Ray into every process (the dashboard's start-up).
_EXPORTS = {
    "Backend": "backends", "UnknownBackendError": "backends", "create_backend": "backends",
    "list_backends": "backends", "register_backend": "backends",
    "RaySettings": "config",
    "LibraryResult": "parquet", "ParquetImportError": "parquet", "import_parquet": "parquet",
}  # fmt: skip


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
