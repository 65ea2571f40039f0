"""The curation run: stages that read the store, call the models and write results back.

Each stage module glues one domain package (``ingest``, ``vision``, ``faces``, ...) to the
DuckDB store; ``runner.run_library`` runs them in order with per-stage progress.
"""
