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


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
