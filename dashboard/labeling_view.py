"""The Labeling page's parts: cached reads of the queue, labels and training runs; the actions
(mine, push, pull, train) run through the run registry's gate; queue cards with thumbnails.

The core (``labeling``, ``curation.training``) does the work; this module only reads its
tables through the gate's read-only connections (cached by database version), runs one core
function per button inside the gate's writer, and shows the outcome. Label Studio errors
carry their own fix and are shown as they are; the API key is never rendered (only the URL,
with any credentials in it removed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from curation.ingest.decode import thumbnail_path
from curation.pipeline.faces_stage import face_crop_path
from curation.settings import Settings
from curation.store import Store, StoreError
from dashboard import data, queries, ui
from dashboard.runs import RunError

if TYPE_CHECKING:
    import pandas as pd

FLASH = "labeling_flash"  # session state: the last action's outcome, shown once after the rerun
PAGE_SIZE = 12
CARDS_PER_ROW = 2
TASK_TITLES = {"themes": "Themes", "clutter": "Clutter", "same_person": "Same person", "same_event": "Same event"}
STATUSES = ("queued", "pushed", "labelled")
STATUS_COLOURS = {"queued": "orange", "pushed": "blue", "labelled": "green"}
LABELING_TABLES = frozenset({"label_queue", "label_tasks", "labels", "training_runs"})
PREDICTION_TABLES = ("photo_predictions", "photo_clutter", "faces", "event_boundaries")
START_COMMANDS = """bash scripts/labelstudio.sh start          # prints the URL
source /tmp/curation-labelstudio-$(id -u)/env   # sets CURATION_LABEL_STUDIO__URL and __API_KEY
.venv/bin/streamlit run dashboard/app.py        # restart the dashboard from that shell"""


# ----------------------------------------------------------------------------- reads


class _OpenStore:
    """A ``Store`` stand-in whose ``connect()`` hands out a connection the gate already opened,
    so the core's read functions (``queue_frame``, ``labels_frame``, ``compare_versions``) run
    on the dashboard's read-only connection instead of opening the file read-write."""

    def __init__(self, con: Any) -> None:  # noqa: ANN401 - a DuckDB connection
        self._con = con

    @contextmanager
    def connect(self, *, read_only: bool = True) -> Iterator[Any]:  # noqa: ARG002, ANN401
        yield self._con


@dataclass
class LabelingState:
    """What the page shows, read in one go from the database."""

    ready: bool  # the labeling tables exist
    queue: pd.DataFrame | None = None  # labeling.queue.queue_frame
    labels: pd.DataFrame | None = None  # labeling.loop.labels_frame
    versions: pd.DataFrame | None = None  # curation.training.compare_versions
    latest_run: dict[str, Any] | None = None  # newest training_runs row
    photos: dict[int, tuple[str, str]] = field(default_factory=dict)  # photo_id -> (sha256, rel_path)
    projects: dict[tuple[str, str], int] = field(default_factory=dict)  # (ls_url, task_type) -> project id
    n_predictions: int = 0  # rows the miners can work on (themes, clutter, faces)


def read_state(con: Any) -> LabelingState:  # noqa: ANN401 - a DuckDB connection
    from curation.training import compare_versions
    from labeling.loop import labels_frame
    from labeling.queue import queue_frame

    present = queries.tables(con)
    n_predictions = sum(
        int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # noqa: S608 - fixed names
        for t in PREDICTION_TABLES
        if t in present
    )
    if not LABELING_TABLES <= present:
        return LabelingState(ready=False, n_predictions=n_predictions)
    store = _OpenStore(con)
    queue = queue_frame(store)  # type: ignore[arg-type]
    photos = {
        int(pid): (sha, rel)
        for pid, sha, rel in con.execute(
            "SELECT photo_id, sha256, rel_path FROM photos WHERE photo_id IN (SELECT unnest(?))",
            [sorted({int(p) for column in ("photo_id", "ref_photo_id") for p in queue[column].dropna()})],
        ).fetchall()
    }
    projects = {
        (url, task): int(project)
        for url, task, project in con.execute(
            "SELECT DISTINCT t.ls_url, q.task_type, t.ls_project_id FROM label_tasks t "
            "JOIN label_queue q USING (item_id) ORDER BY 1, 2"
        ).fetchall()
    }
    latest = con.execute("SELECT * FROM training_runs ORDER BY run_id DESC LIMIT 1").df()
    return LabelingState(
        ready=True,
        queue=queue,
        labels=labels_frame(store),  # type: ignore[arg-type]
        versions=compare_versions(store),  # type: ignore[arg-type]
        latest_run=None if latest.empty else latest.iloc[0].to_dict(),
        photos=photos,
        projects=projects,
        n_predictions=n_predictions,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def _state(db: str, version: data.DbVersion) -> LabelingState:
    with data.run_registry().gate(Path(db)).reader(data.READ_BUSY_TIMEOUT_S) as con:
        return read_state(con)


def state(db: Path) -> LabelingState:
    """The page's data; raises StoreError (no database, busy) for the page to show."""
    if not db.exists():
        raise StoreError(f"No database at {db}: run curation on a library first.")
    return _state(str(db), data.db_version(db))


# ----------------------------------------------------------------------------- pure helpers


def public_url(url: str) -> str:
    """The server URL without any user:password@ part, safe to show and to link to."""
    parts = urlsplit(url.strip().rstrip("/"))
    if not parts.scheme or not parts.hostname:
        return url.strip()
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def status_counts(queue: pd.DataFrame) -> dict[str, int]:
    counts = queue["status"].value_counts().to_dict() if len(queue) else {}
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def filter_queue(queue: pd.DataFrame, task_types: Sequence[str] | None, statuses: Sequence[str] | None) -> pd.DataFrame:
    keep = queue
    if task_types:
        keep = keep[keep["task_type"].isin(list(task_types))]
    if statuses:
        keep = keep[keep["status"].isin(list(statuses))]
    return keep.reset_index(drop=True)


def annotator_table(labels: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: annotations, answered, skipped, conflicts, median seconds per task, last seen."""
    import pandas as pd

    columns = ["Annotator", "Annotations", "Answered", "Skipped", "In conflict", "Median s / task", "Last"]
    if labels.empty:
        return pd.DataFrame(columns=columns)
    grouped = labels.groupby("annotator")
    out = pd.DataFrame(
        {
            "Annotations": grouped.size(),
            "Answered": grouped["cancelled"].apply(lambda s: int((~s.astype(bool)).sum())),
            "Skipped": grouped["cancelled"].apply(lambda s: int(s.astype(bool).sum())),
            "In conflict": grouped["conflict"].apply(lambda s: int(s.astype(bool).sum())),
            "Median s / task": grouped["lead_time_s"].median(),
            "Last": grouped["updated_at"].max(),
        }
    )
    out = out.reset_index().rename(columns={"annotator": "Annotator"})
    return out.sort_values(["Annotations", "Annotator"], ascending=[False, True]).reset_index(drop=True)[columns]


def conflict_table(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per conflicting item: its task type and every annotator's answer."""
    import pandas as pd

    columns = ["Item", "Task", "Answers"]
    flagged = labels[labels["conflict"].astype(bool)] if not labels.empty else labels
    if flagged.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (item_id, task), group in flagged.groupby(["item_id", "task_type"], sort=True):
        answers = "; ".join(f"{a}: {_answer(v)}" for a, v in zip(group["annotator"], group["value"], strict=True))
        rows.append((int(item_id), TASK_TITLES.get(task, task), answers))
    return pd.DataFrame(rows, columns=columns)


def _answer(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN: skipped
        return "skipped"
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        return str(value)
    return ", ".join(map(str, parsed)) if isinstance(parsed, list) else str(parsed)


def metrics_table(metrics: dict[str, Any], head: str) -> pd.DataFrame | None:
    """Held-out metrics of one head next to the previous version's on the same photos."""
    import pandas as pd

    block = metrics.get(head) or {}
    held, base = block.get("held_out") or {}, block.get("baseline") or {}
    names = [k for k in held if isinstance(held[k], int | float) and k != "n"]
    if not names:
        return None
    return pd.DataFrame(
        {
            "Metric": [k.replace("_", " ") for k in names],
            "This version": [held.get(k) for k in names],
            f"Previous ({base.get('model_version', '—')})": [base.get(k) for k in names],
        }
    )


# ----------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Outcome:
    ok: bool
    title: str
    text: str


def run_action(
    db: Path, title: str, action: Callable[[Store], str], expected: Callable[[], tuple[type[Exception], ...]]
) -> None:
    """Run one core call inside the gate's writer; keep its outcome for the rerun, then rerun.

    Expected errors (Label Studio down, key refused, not enough labels, a busy database) carry
    their own fix: shown as they are. The store is untouched when the core raises before
    writing, which is how push and pull behave when the server cannot be reached.
    """
    try:
        with data.run_registry().gate(db).writer():
            text = action(Store(db))
    except (*expected(), StoreError, RunError) as exc:
        st.session_state[FLASH] = Outcome(False, title, str(exc))
    else:
        st.session_state[FLASH] = Outcome(True, title, text)
    st.rerun()


# The core's exceptions are imported when an action runs, not when the page loads.
def label_studio_errors() -> tuple[type[Exception], ...]:
    from labeling.client import LabelStudioError

    return (LabelStudioError, ValueError)


def training_errors() -> tuple[type[Exception], ...]:
    from curation.training import NotEnoughLabels

    return (NotEnoughLabels, ValueError)


def mine_action(n_predictions: int) -> Callable[[Store], str]:
    def action(store: Store) -> str:
        from labeling.queue import mine

        if n_predictions == 0:
            return (
                "No predictions to mine: run the vision stage (themes, clutter) and the faces stage first; "
                "the queue is unchanged."
            )
        report = mine(store)
        found = ", ".join(f"{TASK_TITLES.get(t.value, t.value)} {n}" for t, n in report.found.items()) or "none"
        return (
            f"hard cases found: {found}\n"
            f"{report.queued} new in the queue, {report.updated} refreshed, {report.dropped} dropped (no longer hard)"
        )

    return action


def push_action(settings: Settings, limit: int) -> Callable[[Store], str]:
    def action(store: Store) -> str:
        from labeling.loop import push

        return push(store, settings, limit=limit).summary()

    return action


def pull_action(settings: Settings) -> Callable[[Store], str]:
    def action(store: Store) -> str:
        from labeling.loop import pull

        return pull(store, settings).summary()

    return action


def train_action(settings: Settings, seed: int) -> Callable[[Store], str]:
    def action(store: Store) -> str:
        from curation.training import train_heads

        return train_heads(store, settings, seed=seed).summary()

    return action


def show_outcome() -> None:
    outcome: Outcome | None = st.session_state.pop(FLASH, None)
    if outcome is None:
        return
    if outcome.ok:
        st.success(f"**{outcome.title}**", icon=":material/check_circle:")
        st.code(outcome.text, language=None, wrap_lines=True)
    else:
        ui.show_error(f"**{outcome.title} failed.** {outcome.text}")


# ----------------------------------------------------------------------------- rendering


def connection_panel(settings: Settings, projects: dict[tuple[str, str], int]) -> None:
    """Where the server is (URL only), whether a key is set, links to our projects."""
    ls = settings.label_studio
    url = public_url(str(ls.url))
    has_key = bool(ls.api_key.get_secret_value().strip())
    with st.container(border=True):
        st.markdown("#### :material/hub: Label Studio")
        st.markdown(
            f"Server: `{url}` · API key: "
            + (":green[set] (hidden)" if has_key else ":orange[not set]")
        )
        if not has_key:
            st.info(
                "Push and pull need a Label Studio server and its API key. Set "
                "`CURATION_LABEL_STUDIO__URL` and `CURATION_LABEL_STUDIO__API_KEY` (or `[curation.label_studio]` "
                "in `.streamlit/secrets.toml`), or start a local server:",
                icon=":material/key_off:",
            )
            st.code(START_COMMANDS, language="bash", wrap_lines=True)
        ours = {task: pid for (server, task), pid in projects.items() if public_url(server) == url}
        links = st.columns(max(1, len(ours) + 1))
        links[0].link_button("Open Label Studio", f"{url}/projects", icon=":material/open_in_new:")
        for column, (task, pid) in zip(links[1:], sorted(ours.items()), strict=True):
            column.link_button(
                f"{TASK_TITLES.get(task, task)} project", f"{url}/projects/{pid}/data", icon=":material/open_in_new:"
            )


def queue_cards(shown: pd.DataFrame, st_: LabelingState, cache: Path, thumb_size: int) -> None:
    """The items as cards, two per row."""
    rows = list(shown.itertuples(index=False))
    for start in range(0, len(rows), CARDS_PER_ROW):
        for column, row in zip(st.columns(CARDS_PER_ROW), rows[start : start + CARDS_PER_ROW], strict=False):
            with column:
                _queue_card(row, st_, cache, thumb_size)


def _queue_card(row: Any, st_: LabelingState, cache: Path, thumb_size: int) -> None:  # noqa: ANN401 - a queue row
    """The image(s) on the left (two face crops, or the two photos either side of an event
    boundary, side by side for a pair), what to ask and why on the right."""
    with st.container(border=True, height="stretch"):
        pictures, text = st.columns([2, 3], vertical_alignment="center")
        with pictures:
            if row.task_type == "same_person" and isinstance(row.face_id, str):
                left, right = st.columns(2)
                with left:
                    _tile(face_crop_path(cache, row.face_id), "this face")
                with right:
                    ref = row.ref_face_id if isinstance(row.ref_face_id, str) else ""
                    _tile(face_crop_path(cache, ref), "the person's typical face")
            elif row.task_type == "same_event" and _is_id(row.ref_photo_id):
                for column, (pid, caption) in zip(
                    st.columns(2), ((row.photo_id, "before"), (row.ref_photo_id, "after")), strict=True
                ):
                    with column:
                        sha, rel = st_.photos.get(int(pid), ("", ""))
                        _tile(thumbnail_path(cache, sha, thumb_size) if sha else None, caption)
            else:
                sha, rel = st_.photos.get(int(row.photo_id), ("", ""))
                _tile(thumbnail_path(cache, sha, thumb_size) if sha else None, ui.short_name(rel) if rel else "")
        with text:
            st.markdown(
                f"**{TASK_TITLES.get(row.task_type, row.task_type)}** · "
                f":{STATUS_COLOURS.get(row.status, 'gray')}-badge[{row.status}] · "
                f"priority {row.priority:.2f} · "
                + (":violet-badge[picked in explorer]" if row.source == "explorer" else "mined")
            )
            st.markdown(ui.md_escape(str(row.reason)))
            pair = f" → {int(row.ref_photo_id)}" if row.task_type == "same_event" and _is_id(row.ref_photo_id) else ""
            st.caption(f"item {row.item_id} · photo {row.photo_id}{pair}" + (
                f" · model {ui.md_escape(str(row.model_version))}" if isinstance(row.model_version, str) else ""
            ))


def _is_id(value: object) -> bool:
    """A queue cell holding an id (not NULL/NaN/NA)."""
    try:
        return value is not None and value == value and int(value) >= 0  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _tile(path: Path | None, caption: str) -> None:
    tile = data.thumbnail_tile(path) if path is not None else None
    if tile is None:
        with st.container(border=True, height=120, vertical_alignment="center"):
            st.caption(":material/hide_image: image missing")
        if caption:
            st.caption(caption)
    else:
        st.image(tile, caption=caption or None, width="stretch")


def queue_table(queue: pd.DataFrame) -> None:
    st.dataframe(
        queue,
        hide_index=True,
        column_order=["item_id", "task_type", "status", "priority", "source", "reason", "photo_id", "updated_at"],
        column_config={
            "item_id": st.column_config.NumberColumn("Item", format="%d"),
            "task_type": st.column_config.TextColumn("Task"),
            "status": st.column_config.TextColumn("Status"),
            "priority": st.column_config.ProgressColumn("Priority", min_value=0.0, max_value=1.0, format="%.2f"),
            "source": st.column_config.TextColumn("Source"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "photo_id": st.column_config.NumberColumn("Photo", format="%d"),
            "updated_at": st.column_config.DatetimeColumn("Updated", format="D MMM YYYY, HH:mm"),
        },
        key="labeling_queue_table",
    )


def training_panel(st_: LabelingState) -> None:
    run = st_.latest_run
    if run is None:
        st.info(
            "No model trained on labels yet. Pull some annotations, then press **Train new model version**.",
            icon=":material/model_training:",
        )
    else:
        metrics = json.loads(run["metrics"]) if isinstance(run.get("metrics"), str) else {}
        st.markdown(
            f"**{ui.md_escape(str(run['model_version']))}** · trained "
            f"{ui.format_when(run['started_at'])} on {int(run['n_human']):,} human + "
            f"{int(run['n_bootstrap']):,} bootstrap labels · re-scored {int(run['n_predicted']):,} photos · "
            f"seed {int(run['seed'])}"
        )
        heads = st.columns(2)
        for column, head in zip(heads, ("themes", "clutter"), strict=True):
            with column:
                st.markdown(f"##### {head.capitalize()}")
                block = metrics.get(head) or {}
                table = metrics_table(metrics, head)
                if not block.get("trained"):
                    st.caption(f"Not trained: {ui.md_escape(str(block.get('why', 'no labels')))}")
                elif table is None:
                    st.caption("Trained, but too few human labels to hold any out: no held-out metrics.")
                else:
                    st.dataframe(table, hide_index=True, key=f"labeling_metrics_{head}")
    if st_.versions is not None and not st_.versions.empty:
        with st.expander(f":material/compare: All versions ({len(st_.versions)})"):
            st.dataframe(st_.versions, hide_index=True, key="labeling_versions_table")
