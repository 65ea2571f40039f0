"""What the pages that wait on later stages will do, and what is ready for them already.

Content only (plain Python); ``ui.coming_soon`` renders it. When a stage lands, its page
replaces its placeholder script and its entry here goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from curation.settings import Settings
from dashboard.queries import DatabaseSummary


class NeedKind(StrEnum):
    PHOTOS = "photos"  # at least one ingested photo
    TABLE = "table"  # a table that a later stage creates
    SAMPLES = "samples"  # the labelled sample sets (CURATION_SAMPLES)
    DATABASE = "database"  # a database file


@dataclass(frozen=True)
class Need:
    kind: NeedKind
    label: str  # what it is, e.g. "Image embeddings"
    table: str = ""  # for NeedKind.TABLE
    stage: str = ""  # the stage that provides it


@dataclass(frozen=True)
class Readiness:
    ok: bool
    text: str


_RUN_SNIPPET = """.venv/bin/curation demo-library {demo}
.venv/bin/curation run {demo} --db {database}"""


@dataclass(frozen=True)
class ComingSoon:
    title: str
    icon: str  # Material icon, ":material/name:"
    pitch: str  # one sentence: what the page is for
    features: tuple[str, ...]  # what it will show / let you do
    arrives_with: str  # the stage(s) or work it waits for
    needs: tuple[Need, ...]
    now: tuple[str, ...]  # what to do meanwhile (Markdown)
    snippet: str = _RUN_SNIPPET  # shell commands for meanwhile; {database}, {demo} are filled in

    def commands(self, settings: Settings) -> str:
        return self.snippet.format(database=settings.database, demo=settings.demo_library_path)


_PHOTOS = Need(NeedKind.PHOTOS, "Photos ingested", stage="ingest")


def readiness(spec: ComingSoon, summary: DatabaseSummary, settings: Settings) -> list[Readiness]:
    out = []
    for need in spec.needs:
        if need.kind is NeedKind.PHOTOS:
            ok = summary.n_photos > 0
            text = (
                f"{summary.n_photos:,} photos ingested in {summary.n_libraries} "
                f"{'library' if summary.n_libraries == 1 else 'libraries'}"
                if ok
                else "No photos yet: run curation on a library"
            )
        elif need.kind is NeedKind.DATABASE:
            ok = summary.exists
            text = f"Database at `{settings.database}`" if ok else f"No database yet at `{settings.database}`"
        elif need.kind is NeedKind.SAMPLES:
            ok = settings.samples.is_dir()
            text = (
                f"Labelled sample sets at `{settings.samples}`"
                if ok
                else f"No sample sets at `{settings.samples}` (set CURATION_SAMPLES)"
            )
        else:
            ok = summary.has(need.table)
            rows = summary.table_rows.get(need.table, 0)
            text = f"{need.label}: " + (f"{rows:,}" if ok else f"not yet — comes with the {need.stage} stage")
        out.append(Readiness(ok, text))
    return out


_RUN_FIRST = "Open **Libraries & runs**, pick the demo library and press **Run curation**."

EMBEDDING_EXPLORER = ComingSoon(
    title="Embedding explorer",
    icon=":material/scatter_plot:",
    pitch="A map of the whole library where similar photos sit together.",
    features=(
        "Every photo's image embedding projected to 2-D (UMAP), one dot per photo",
        "Hover a dot for its thumbnail; lasso a cluster to see its photos",
        "Colour by theme, event, clutter score or capture year",
        "Spot near-duplicates and odd ones out at a glance",
    ),
    arrives_with="the vision stage (embeddings and themes)",
    needs=(_PHOTOS, Need(NeedKind.TABLE, "Image embeddings", table="embeddings", stage="vision")),
    now=(_RUN_FIRST, "Browse the latest photos and the ingest issues on that page meanwhile."),
)

PEOPLE = ComingSoon(
    title="People",
    icon=":material/groups:",
    pitch="The people in your photos, found by their faces.",
    features=(
        "Faces grouped into people, with the best portrait of each",
        "Name a person once; merge or split groups the model got wrong",
        "Hide people who should never appear in an album",
    ),
    arrives_with="the faces stage (detection, embeddings, clustering)",
    needs=(
        _PHOTOS,
        Need(NeedKind.TABLE, "Detected faces", table="faces", stage="faces"),
        Need(NeedKind.TABLE, "People", table="persons", stage="faces"),
    ),
    now=(_RUN_FIRST,),
)

MEMORIES_REVIEW = ComingSoon(
    title="Memories review",
    icon=":material/auto_stories:",
    pitch="The proposed Memories albums, ready to check and print.",
    features=(
        "Each album's pages: the best photos of an event or a trip, with a title",
        "Swap a photo for another from the same event, reorder, edit the title",
        "Approve an album for the print export (`curation export`)",
    ),
    arrives_with="the events and albums stages",
    needs=(
        _PHOTOS,
        Need(NeedKind.TABLE, "Events", table="events", stage="events"),
        Need(NeedKind.TABLE, "Albums", table="albums", stage="albums"),
    ),
    now=(
        _RUN_FIRST,
        "Export what exists today as JSON: `.venv/bin/curation export --out var/export.json`.",
    ),
)

MODEL_QUALITY = ComingSoon(
    title="Model quality",
    icon=":material/monitoring:",
    pitch="How well each model does on the labelled sample sets, and where it goes wrong.",
    features=(
        "Theme accuracy, clutter precision and recall, face clustering purity, event boundary F1",
        "Per model version, so a change can be compared with the one before",
        "The photos each model gets wrong, side by side with their labels",
    ),
    arrives_with="the evaluation of the vision, faces and events stages",
    needs=(
        Need(NeedKind.SAMPLES, "Labelled sample sets"),
        Need(NeedKind.TABLE, "Model versions and their metrics", table="model_versions", stage="vision"),
    ),
    now=(
        "Benchmarks are scripts that print numbers: see `bench/` and `bench/results/`.",
        "The tests on the labelled sample sets run with:",
    ),
    snippet=".venv/bin/python -m pytest -m samples -q",
)

ENGAGEMENT_SQL = ComingSoon(
    title="Engagement SQL",
    icon=":material/terminal:",
    pitch="Ask the curation database questions in SQL, read-only.",
    features=(
        "A DuckDB SQL editor over the database, read-only",
        "Saved queries: which events are looked at, which albums get printed, …",
        "A chart from any result, and a CSV download",
    ),
    arrives_with="the engagement events and the saved queries",
    needs=(Need(NeedKind.DATABASE, "Database"), _PHOTOS),
    now=("Query the database from a terminal meanwhile (read-only; quit before the next run, which writes):",),
    snippet=(
        ".venv/bin/python -c \"import duckdb; "
        "print(duckdb.connect('{database}', read_only=True).sql('SELECT * FROM runs ORDER BY run_id DESC'))\""
    ),
)

LABELING = ComingSoon(
    title="Labeling",
    icon=":material/label:",
    pitch="Label photos in Label Studio and bring the labels back as ground truth.",
    features=(
        "Send photos to Label Studio for themes, clutter and faces, model predictions pre-filled",
        "Follow the task queue and the agreement between labellers and the model",
        "Pull the annotations back; Model quality scores against them",
    ),
    arrives_with="the Label Studio integration (`labeling/`)",
    needs=(_PHOTOS, Need(NeedKind.TABLE, "Labels", table="labels", stage="labeling")),
    now=(
        _RUN_FIRST,
        "Set the Label Studio URL and API key in `.streamlit/secrets.toml`, "
        "section `[curation.label_studio]`.",
    ),
)
