"""Memories review: the proposed albums as photobook spreads; approve or reject each one."""

from __future__ import annotations

import streamlit as st

from curation.store import StoreError
from dashboard import data, review_view, ui

settings = data.current_settings()
db = settings.database

try:
    found = review_view.libraries(db)
    if not found:
        review_view.empty_state(settings)
        st.stop()
except StoreError as exc:
    ui.page_header("Memories review", ":material/auto_stories:", "The proposed Memories albums.")
    ui.show_error(str(exc), retry_key="retry_review")
    st.stop()

ui.page_header(
    "Memories review",
    ":material/auto_stories:",
    "The albums the engine proposes, as they would print. Check the photos and the title, then approve or reject.",
)
library = review_view.library_picker(found)
try:
    album_id = review_view.selected_album()
    if album_id:
        review_view.album_view(db, settings, library, album_id)
    else:
        review_view.gallery(db, settings, library)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="retry_review")
