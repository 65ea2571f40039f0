"""Labeling: the hard-case queue, push to / pull from Label Studio, annotators, retraining."""

from __future__ import annotations

import streamlit as st

from curation.store import StoreError
from dashboard import data, ui
from dashboard import labeling_view as view

settings = data.current_settings()
db = settings.database

ui.page_header(
    "Labeling",
    ":material/label:",
    "The cases the engine is unsure about, sent to Label Studio for people to answer; their labels "
    "come back here and train the next model version.",
)

try:
    state = view.state(db)
except StoreError as exc:
    if not db.exists():
        ui.empty_state(
            ":material/label_off:",
            "No database yet",
            "Hard cases come from the engine's predictions: run curation on a library first "
            "(all stages: the vision stage scores themes and clutter, the faces stage groups faces).",
        )
        ui.what_to_do_now([ui.RUN_DEMO_FIRST], ui.run_demo_commands(settings))
    else:
        ui.show_error(str(exc), retry_key="labeling_retry")
    st.stop()

view.show_outcome()
view.connection_panel(settings, state.projects)

if not state.ready:
    ui.empty_state(
        ":material/construction:",
        "This database has no labeling tables yet",
        "They are created when the engine next opens the database for writing: run curation once "
        "(any stage) on a library, then come back.",
    )
    st.stop()

# ------------------------------------------------------------------ actions
st.subheader(":material/bolt: Actions", anchor=False)
mine_col, push_col, pull_col, train_col = st.columns(4, gap="medium")
with mine_col, st.container(border=True):
    st.markdown("**Find hard cases**")
    st.caption("Re-run the miners on the current predictions; the queue is updated, nothing is sent.")
    mine_clicked = st.button("Mine hard cases", key="labeling_mine", icon=":material/search_insights:", width="stretch")
with push_col, st.container(border=True):
    st.markdown("**Send to Label Studio**")
    limit = st.number_input("Tasks to send", min_value=1, max_value=1000, value=50, step=10, key="labeling_push_limit")
    push_clicked = st.button("Push", key="labeling_push", icon=":material/upload:", type="primary", width="stretch")
with pull_col, st.container(border=True):
    st.markdown("**Bring labels back**")
    st.caption("Read every annotation of our projects; conflicts between annotators are flagged.")
    pull_clicked = st.button("Pull", key="labeling_pull", icon=":material/download:", width="stretch")
with train_col, st.container(border=True):
    st.markdown("**Retrain**")
    seed = st.number_input("Seed", min_value=0, value=0, step=1, key="labeling_train_seed")
    train_clicked = st.button(
        "Train new model version", key="labeling_train", icon=":material/model_training:", width="stretch"
    )

if mine_clicked:
    with st.spinner("Mining hard cases…"):
        view.run_action(db, "Mine hard cases", view.mine_action(state.n_predictions), tuple)
if push_clicked:
    with st.spinner(f"Pushing up to {int(limit)} tasks to Label Studio…"):
        view.run_action(db, "Push", view.push_action(settings, int(limit)), view.label_studio_errors)
if pull_clicked:
    with st.spinner("Pulling annotations from Label Studio…"):
        view.run_action(db, "Pull", view.pull_action(settings), view.label_studio_errors)
if train_clicked:
    with st.spinner("Training the heads on the labels…"):
        view.run_action(db, "Training", view.train_action(settings, int(seed)), view.training_errors)

# ------------------------------------------------------------------ the queue
queue = state.queue
counts = view.status_counts(queue)
st.subheader(":material/queue: Queue", anchor=False)
ui.metric_row(
    [
        ui.Metric("In the queue", len(queue), "Every item, whatever its status."),
        ui.Metric("Queued", counts["queued"], "Waiting to be sent to Label Studio."),
        ui.Metric("Pushed", counts["pushed"], "In Label Studio, waiting for an answer."),
        ui.Metric("Labelled", counts["labelled"], "Answered by at least one annotator and pulled back."),
    ]
)

if queue.empty:
    if state.n_predictions == 0:
        ui.empty_state(
            ":material/hourglass_empty:",
            "Nothing to label yet",
            "Hard cases are mined from the engine's predictions, and this database has none: run the "
            "**vision** stage (themes, clutter) and the **faces** stage on a library first, then press "
            "**Mine hard cases**. You can also pick photos in the **Embedding explorer** and queue them.",
        )
        ui.what_to_do_now(
            ["Run the vision and faces stages from **Libraries & runs**, or from a terminal:"],
            f".venv/bin/curation run <library folder> --stages vision,faces --db {db}",
        )
    else:
        ui.empty_state(
            ":material/search_insights:",
            "The queue is empty",
            f"The engine has {state.n_predictions:,} predictions to look through: press **Mine hard cases** to "
            "queue the ones it is unsure about, or **Push**, which mines first.",
        )
else:
    type_col, status_col = st.columns(2)
    task_types = type_col.segmented_control(
        "Task type",
        list(view.TASK_TITLES),
        selection_mode="multi",
        default=list(view.TASK_TITLES),
        format_func=view.TASK_TITLES.get,
        key="labeling_task_filter",
    )
    statuses = status_col.segmented_control(
        "Status",
        list(view.STATUSES),
        selection_mode="multi",
        default=list(view.STATUSES),
        format_func=lambda s: f"{s.capitalize()} ({counts[s]})",
        key="labeling_status_filter",
    )
    shown = view.filter_queue(queue, task_types, statuses)
    if shown.empty:
        st.info("No item matches these filters.", icon=":material/filter_alt_off:")
    else:
        pages = max(1, -(-len(shown) // view.PAGE_SIZE))
        page_no = 1
        if pages > 1:
            page_no = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key="labeling_queue_page"))
        start = (page_no - 1) * view.PAGE_SIZE
        st.caption(f"Items {start + 1}–{min(start + view.PAGE_SIZE, len(shown))} of {len(shown)} shown, "
                   "explorer picks first, then by priority.")  # fmt: skip
        view.queue_cards(shown.iloc[start : start + view.PAGE_SIZE], state, settings.cache, settings.ingest.thumb_sizes[0])
    with st.expander(":material/table: The whole queue as a table"):
        view.queue_table(shown)

# ------------------------------------------------------------------ annotators
st.subheader(":material/group: Annotators", anchor=False)
labels = state.labels
if labels is None or labels.empty:
    st.info("No annotations pulled yet: annotate in Label Studio, then press **Pull**.", icon=":material/inbox:")
else:
    people_col, conflict_col = st.columns([3, 2], gap="medium")
    with people_col:
        st.dataframe(
            view.annotator_table(labels),
            hide_index=True,
            placeholder="—",
            column_config={
                "Median s / task": st.column_config.NumberColumn(format="%.1f"),
                "Last": st.column_config.DatetimeColumn(format="D MMM, HH:mm"),
            },
            key="labeling_annotators",
        )
    with conflict_col:
        conflicts = view.conflict_table(labels)
        if conflicts.empty:
            st.success("No conflicts: annotators agree on every item.", icon=":material/handshake:")
        else:
            st.markdown(
                f"**{len(conflicts)} {'item' if len(conflicts) == 1 else 'items'} with conflicting answers** "
                "(training leaves ties out)"
            )
            st.dataframe(conflicts, hide_index=True, placeholder="—", key="labeling_conflicts")

# ------------------------------------------------------------------ training
st.subheader(":material/model_training: Latest training", anchor=False)
view.training_panel(state)
