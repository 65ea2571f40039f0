"""Backends of ``curation run``: ``local`` (in this process, the default) and ``ray``.

``create_backend(name)`` builds one; the ray backend imports Ray only when it runs.
Results of a distributed run are Parquet files partitioned by library, loaded into the
store by ``import_parquet`` (docs/scale.md).
"""

import importlib
from typing import Any

# Lazy exports (PEP 562): `curation.settings` imports RaySettings, and the settings must
# not pull the store, pyarrow or Ray into every process (the dashboard's start-up).
_EXPORTS = {
    "Backend": "backends", "UnknownBackendError": "backends", "create_backend": "backends",
    "list_backends": "backends", "register_backend": "backends",
    "RaySettings": "config",
    "LibraryResult": "parquet", "ParquetImportError": "parquet", "import_parquet": "parquet",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'curation.distributed' has no attribute {name!r}")
    return getattr(importlib.import_module(f"curation.distributed.{module}"), name)


__all__ = sorted(_EXPORTS)
