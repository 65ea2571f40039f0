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
    library: Annotated[Path, typer.Argument(help="Folder of photos (scanned recursively).")],
    db: DbOption = None,
    workers: Annotated[int | None, typer.Option(help="Decoding processes (default: settings).")] = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages to run (default: all): ingest,vision,faces.")
    ] = None,
) -> None:
    """Ingest a library (only new or changed files) and curate it."""
    from curation.pipeline.runner import Stage, parse_stages, run_library

    settings, store = _store(db)
    if workers is not None:
        settings.ingest.workers = workers
    if not library.is_dir():
        raise _fail(f"Library folder not found: {library}")
    try:
        chosen = parse_stages(stages)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        with _progress() as bar:
            tasks = {stage: bar.add_task(stage.value, total=None, item="", start=False) for stage in chosen}

            def on_progress(stage: Stage, done: int, total: int, item: str) -> None:
                bar.start_task(tasks[stage])
                bar.update(tasks[stage], completed=done, total=total, item=item[-40:])

            result = run_library(library, store, settings, stages=chosen, progress=on_progress)
            for task in tasks.values():
                bar.update(task, item="")
    except (StoreError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
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
) -> None:
    """Build the small built-in demo library from photos that ship inside installed packages."""
    from curation.demo.library import build_demo_library

    try:
        manifest = build_demo_library(out, seed=seed, overwrite=overwrite)
    except (ValueError, ImportError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"Built the demo library in {out} ({len(manifest.files)} files).")


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
