"""Backends of ``curation run``: ``local`` (in this process, the default) and ``ray``.

``create_backend(name)`` builds one; the ray backend imports Ray only when it runs.
Results of a distributed run are Parquet files partitioned by library, loaded into the
store by ``import_parquet`` (docs/scale.md).
"""

from curation.distributed.backends import Backend, UnknownBackendError, create_backend, list_backends, register_backend
from curation.distributed.config import RaySettings
from curation.distributed.parquet import LibraryResult, ParquetImportError, import_parquet

__all__ = [
    "Backend",
    "LibraryResult",
    "ParquetImportError",
    "RaySettings",
    "UnknownBackendError",
    "create_backend",
    "import_parquet",
    "list_backends",
    "register_backend",
]
