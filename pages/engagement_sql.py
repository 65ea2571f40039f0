"""Engagement SQL: saved questions, a read-only SQL editor and A/B tests over the engagement data."""

from __future__ import annotations

import streamlit as st

from dashboard import data, engagement_view, ui

settings = data.current_settings()

ui.page_header(engagement_view.TITLE, engagement_view.ICON, engagement_view.PITCH)
if not settings.engagement_database.is_file():
    engagement_view.empty_state(settings)
    st.stop()

engagement_view.engagement_page(settings)
