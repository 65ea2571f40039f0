"""``curation`` command line: run the engine, export results, build the demo library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from curation.settings import Settings
from curation.store import Store, StoreError

app = typer.Typer(
    name="curation",
    help="Curation Studio: curate photo libraries into Memories albums.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB file (default: CURATION_DB_PATH or var/curation.duckdb).")
]


def _store(db: Path | None) -> tuple[Settings, Store]:
    settings = Settings(db_path=db) if db else Settings()
    return settings, Store(settings.database)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("[dim]{task.fields[item]}"),
        console=console,
        transient=False,
    )


@app.command()
def run(
    libraries: Annotated[list[Path], typer.Argument(help="Folders of photos (each scanned recursively).")],
    db: DbOption = None,
    workers: Annotated[int | None, typer.Option(help="Decoding processes (default: settings).")] = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages to run (default: all): ingest,vision,faces.")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="local (this process, the default) or ray (a Ray cluster; see docs/scale.md).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(help="ray backend: local (start Ray here), auto (this machine's cluster) or ray://HEAD:10001."),
    ] = None,
    parquet_out: Annotated[
        str | None,
        typer.Option(help="ray backend: folder or s3:// URI for the Parquet results (default data_dir/parquet)."),
    ] = None,
) -> None:
    """Ingest libraries (only new or changed files, locally) and curate them."""
    from curation.distributed import UnknownBackendError, create_backend
    from curation.pipeline.runner import Stage, parse_stages

    settings, store = _store(db)
    if workers is not None:
        settings.ingest.workers = workers
    for library in libraries:
        if not library.is_dir():
            raise _fail(f"Library folder not found: {library}")
    if backend != "ray" and (ray_address or parquet_out):
        raise _fail("--ray-address and --parquet-out belong to the ray backend: add --backend ray.")
    try:
        chosen = parse_stages(stages)
        options = {"address": ray_address, "parquet_out": parquet_out} if backend == "ray" else {}
        runner = create_backend(backend, **options)
    except (ValueError, UnknownBackendError) as exc:
        raise _fail(str(exc)) from exc
    try:
        if backend == "local":
            with _progress() as bar:
                every_task = []

                def progress_for(root: Path):  # noqa: ANN202
                    prefix = f"{root.name}: " if len(libraries) > 1 else ""
                    tasks = {stage: bar.add_task(f"{prefix}{stage.value}", total=None, item="", start=False)
                             for stage in chosen}  # fmt: skip
                    every_task.extend(tasks.values())

                    def on_progress(stage: Stage, done: int, total: int, item: str) -> None:
                        bar.start_task(tasks[stage])
                        bar.update(tasks[stage], completed=done, total=total, item=item[-40:])

                    return on_progress

                results = runner.run(libraries, store, settings, stages=chosen, progress=progress_for)
                for task in every_task:
                    bar.update(task, item="")
        else:
            results = runner.run(libraries, store, settings, stages=chosen)
    except (StoreError, ValueError, FileNotFoundError, ImportError) as exc:
        raise _fail(str(exc)) from exc
    for result in results:
        if result.report is not None:
            _print_ingest(result.report, chosen, store, result.root)
        else:
            _print_rows(result, store)


def _print_rows(result, store: Store) -> None:  # noqa: ANN001 - a curation.distributed.LibraryResult
    table = Table(title=f"Results of {result.root} (rows loaded)", show_header=False)
    for label, name in [("files", "photos"), ("issues", "ingest_issues"), ("faces", "faces"), ("people", "persons"),
                        ("events", "events"), ("trips", "trips"), ("albums", "albums")]:  # fmt: skip
        table.add_row(label, str(result.rows.get(name, 0)))
    table.add_row("database", str(store.path))
    console.print(table)


def _print_ingest(result, chosen, store: Store, library: Path) -> None:  # noqa: ANN001 - a RunReport, stages
    from curation.pipeline.runner import Stage

    report = result.reports.get(Stage.INGEST)
    if report is None:
        console.print(f"Ran {', '.join(s.value for s in chosen)} on {library}.")
        return
    table = Table(title=f"Ingest of {report.root}", show_header=False)
    for label, value in [
        ("files found", report.n_files),
        ("new", report.n_new),
        ("changed", report.n_changed),
        ("unchanged (not reopened)", report.n_unchanged),
        ("removed since last run", report.n_removed),
        ("skipped (see issues)", report.n_skipped),
        ("warnings", report.n_warnings),
        ("time", f"{report.seconds:.1f} s"),
        ("database", str(store.path)),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    if report.issues:
        issues = Table(title="Ingest issues", show_lines=False)
        for col in ("file", "", "reason"):
            issues.add_column(col, overflow="fold")
        for issue in report.issues[:50]:
            issues.add_row(issue.path, issue.severity.value, issue.reason)
        console.print(issues)
        if len(report.issues) > 50:
            console.print(f"… and {len(report.issues) - 50} more: `curation export` lists them all.")


@app.command("import-parquet")
def import_parquet_command(
    out: Annotated[str, typer.Argument(help="The --parquet-out folder (or s3:// URI) of a ray run.")],
    db: DbOption = None,
) -> None:
    """Load a ray run's Parquet results into the store (again), replacing its libraries' rows."""
    from curation.distributed import import_parquet

    _, store = _store(db)
    try:
        results = import_parquet(store, out)
    except (StoreError, OSError) as exc:
        raise _fail(str(exc)) from exc
    for result in results:
        _print_rows(result, store)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    db: DbOption = None,
    library: Annotated[Path | None, typer.Option(help="Library folder (default: the last one run).")] = None,
) -> None:
    """Write photos, issues, events, people and albums of a library as one JSON document."""
    from curation.export import write_export

    _, store = _store(db)
    try:
        document = write_export(store, out, library)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"Wrote {out}: {len(document['photos'])} photos, {len(document['issues'])} issues, "
        f"{len(document['events'])} events, {len(document['albums'])} albums."
    )


@app.command("demo-library")
def demo_library(
    out: Annotated[Path, typer.Argument(help="Folder to create.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same library).")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing demo library in OUT.")] = False,
    photos: Annotated[
        int | None,
        typer.Option(help="Build the large generated library for scale tests instead, with this many photos."),
    ] = None,
    megapixels: Annotated[float, typer.Option(help="Photo size of the large library.")] = 3.0,
) -> None:
    """Build the small built-in demo library from photos that ship inside installed packages
    (or, with --photos, a large generated one for scale tests: docs/performance.md)."""
    try:
        if photos is not None:
            from curation.demo.large import build_large_library

            with _progress() as bar:
                task = bar.add_task("generating photos", total=photos, item="")
                built = build_large_library(
                    out, photos=photos, megapixels=megapixels, seed=seed,
                    progress=lambda done, total: bar.update(task, completed=done),
                )  # fmt: skip
            console.print(
                f"Built a {built.photos}-photo library ({built.events} events, {built.megapixels:g} MP, "
                f"{built.bytes / 1e9:.1f} GB) in {out}."
            )
            return
        from curation.demo.library import build_demo_library

        manifest = build_demo_library(out, seed=seed, overwrite=overwrite)
    except (ValueError, ImportError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"Built the demo library in {out} ({len(manifest.files)} files).")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmark suite (bench/suite.py): every benchmark next to its baseline, peak memory.

    Options go to the suite: --quick, --only ingest,embed,faces,events_albums,umap,pipeline, --no-save.
    """
    import runpy
    import sys

    from curation.settings import REPO_ROOT

    suite = REPO_ROOT / "bench" / "suite.py"
    if not suite.exists():
        raise _fail(f"{suite} not found: the benchmarks live in the source checkout, not in an installed wheel.")
    sys.argv = [str(suite), *ctx.args]
    sys.path.insert(0, str(suite.parent))
    try:
        runpy.run_path(str(suite), run_name="__main__")
    except SystemExit as exc:
        if exc.code:
            raise typer.Exit(int(exc.code) if isinstance(exc.code, int) else 1) from None


@app.command()
def evaluate(
    tasks: Annotated[str | None, typer.Option(help="Comma-separated: faces,themes,clutter (default: all).")] = None,
    save: Annotated[bool, typer.Option(help="Store the metrics with each model version.")] = True,
    db: DbOption = None,
) -> None:
    """Evaluate the models on the labelled sample sets (CURATION_SAMPLES) and print the tables."""
    import sys

    from curation.evaluate import evaluate_all

    settings, _ = _store(db)
    try:
        evaluate_all(settings, out=sys.stdout, tasks=tasks, save=save)
    except (FileNotFoundError, ValueError, StoreError) as exc:
        raise _fail(str(exc)) from exc


engagement_app = typer.Typer(help="Engagement data: generate, build, query.", no_args_is_help=True)
app.add_typer(engagement_app, name="engagement")


@engagement_app.command("generate")
def engagement_generate(
    users: Annotated[int, typer.Option(help="Number of users to simulate.")] = 10_000,
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet exports (default data_dir/engagement-raw).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 365,
    build: Annotated[bool, typer.Option(help="Also clean them into the engagement database.")] = True,
) -> None:
    """Generate realistic, messy engagement exports (Parquet) and build the database."""
    from curation.engagement.generate import GenerateError, generate
    from curation.engagement.sandbox import build_database

    settings = Settings()
    out = out or settings.data_dir / "engagement-raw"
    try:
        report = generate(users, out, seed=seed, days=days)
        console.print(report.summary())
        if build:
            built = build_database([out], settings.engagement_database, threads=settings.engagement.threads)
            console.print(built.summary())
    except (GenerateError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from exc


@app.command("sql")
def sql(
    statement: Annotated[str | None, typer.Argument(help="One read-only SQL statement.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Engagement database (default: settings).")] = None,
    query: Annotated[str | None, typer.Option(help="Run a named query from sql/queries instead.")] = None,
    param: Annotated[list[str] | None, typer.Option(help="Named query parameter NAME=VALUE (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(help="Row limit (default: settings).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the result as CSV.")] = None,
) -> None:
    """Query the engagement data, read-only and sandboxed."""
    from curation.engagement.queries import QueryError, list_queries, run_named_query
    from curation.engagement.sandbox import SandboxError, run_sql

    settings = Settings()
    options = {
        "db_path": db or settings.engagement_database,
        "row_limit": limit or settings.engagement.row_limit,
        "time_limit_s": settings.engagement.time_limit_s,
        "threads": settings.engagement.threads,
    }
    if (statement is None) == (query is None):
        names = ", ".join(q.name for q in list_queries())
        raise _fail(f"Give either a SQL statement or --query NAME (named queries: {names}).")
    try:
        if query is not None:
            params = dict(p.split("=", 1) for p in (param or []) if "=" in p)
            result = run_named_query(query, params, **options)
        else:
            result = run_sql(statement, **options)
    except (SandboxError, QueryError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    table = Table(show_lines=False)
    for column in result.frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in result.frame.head(50).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    Console().print(table)
    more = " (row limit reached)" if result.truncated else ""
    console.print(f"{len(result.frame)} rows in {result.elapsed:.3f} s{more}")
    if csv:
        result.frame.to_csv(csv, index=False)
        console.print(f"Wrote {csv}")


label_app = typer.Typer(help="Labeling loop: hard cases to Label Studio and back.", no_args_is_help=True)
app.add_typer(label_app, name="label")


@label_app.command("push")
def label_push(limit: Annotated[int, typer.Option(help="Tasks to send.")] = 50, db: DbOption = None) -> None:
    """Mine hard cases and send them, with the model's predictions, to Label Studio."""
    from labeling import LabelStudioError, push

    settings, store = _store(db)
    try:
        console.print(push(store, settings, limit=limit).summary())
    except (LabelStudioError, StoreError, ValueError) as exc:
        raise _fail(str(exc)) from None


@label_app.command("pull")
def label_pull(db: DbOption = None) -> None:
    """Read annotations back from Label Studio into the labels table."""
    from labeling import LabelStudioError, pull

    settings, store = _store(db)
    try:
        console.print(pull(store, settings).summary())
    except (LabelStudioError, StoreError) as exc:
        raise _fail(str(exc)) from None


@app.command()
def train(seed: Annotated[int, typer.Option(help="Random seed.")] = 0, db: DbOption = None) -> None:
    """Retrain the theme and clutter heads on the labels; writes a new model version."""
    from curation.training import NotEnoughLabels, train_heads

    settings, store = _store(db)
    try:
        console.print(train_heads(store, settings, seed=seed).summary())
    except (NotEnoughLabels, StoreError) as exc:
        raise _fail(str(exc)) from None


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
