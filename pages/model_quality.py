"""Model quality: every model version's evaluation, charted against the targets."""

from __future__ import annotations

import streamlit as st

from curation.store import StoreError
from dashboard import data, quality_view, ui

settings = data.current_settings()

try:
    quality = quality_view.quality(settings.database)
    if not quality.evaluated and not quality.training_runs:
        quality_view.empty_state(settings)
        st.stop()
except StoreError as exc:
    ui.page_header("Model quality", ":material/monitoring:", "How well each model version does.")
    ui.show_error(str(exc), retry_key="retry_quality")
    st.stop()

ui.page_header(
    "Model quality",
    ":material/monitoring:",
    "How well each model version does on the labelled sample sets, against its targets.",
)
quality_view.quality_page(quality)
