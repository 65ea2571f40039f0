"""Curation Studio dashboard entry point: ``streamlit run dashboard/app.py``.

Builds the navigation from ``dashboard.navigation.PAGES`` and runs the chosen page script
from ``pages/``. Imports nothing heavy: the engine's pipeline loads when a run starts.
"""

from __future__ import annotations


def main() -> None:
    import streamlit as st

    from dashboard import data, navigation, ui

    st.set_page_config(
        page_title=ui.APP_NAME, page_icon=ui.APP_ICON, layout="wide", initial_sidebar_state="expanded"
    )
    st.logo(str(ui.LOGO), size="large", icon_image=ui.APP_ICON)
    page = st.navigation(navigation.sections(), position="sidebar")
    ui.sidebar_footer(data.current_settings())
    ui.run_guarded(page)


main()
