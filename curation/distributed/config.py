"""The knobs of the Ray backend (docs/scale.md says which matter on a real cluster)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RaySettings(BaseModel):
    address: str = Field(
        "local",
        description="'local' starts Ray in this process; 'auto' joins the cluster this machine is part of; "
        "'ray://HEAD:10001' connects a client. An already initialised Ray is used as it is.",
    )
    num_cpus: int | None = Field(None, description="CPUs of a 'local' Ray (default: all).")
    object_store_memory: int | None = Field(None, description="Bytes of object store for a 'local' Ray.")
    parquet_out: str | None = Field(
        None, description="Folder or URI (s3://bucket/prefix) for the Parquet results; default data_dir/parquet."
    )
    ingest_batch_size: int = Field(16, ge=1, description="Files per ingest task (decode, hash, metadata, thumbnails).")
    ingest_num_cpus: float = Field(1.0, gt=0)
    faces_batch_size: int = Field(16, ge=1, description="Photos per call of a face-model actor.")
    faces_actors: int = Field(1, ge=1, description="Face-model actors (dlib is CPU only).")
    faces_num_cpus: float = Field(1.0, gt=0)
    vision_batch_size: int = Field(64, ge=1, description="Photos per call of an embedder actor.")
    vision_actors: int = Field(1, ge=1, description="Embedder actors (one per GPU on a GPU cluster).")
    vision_num_cpus: float = Field(1.0, gt=0)
    vision_num_gpus: float = Field(0.0, ge=0, description="GPUs per embedder actor; 0 runs it on CPU.")
    library_num_cpus: float = Field(1.0, gt=0, description="CPUs per library task (people, events, albums).")
    progress_bars: bool = Field(True, description="Ray Data's progress bars.")
