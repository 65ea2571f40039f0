"""Curation Studio dashboard (Streamlit): the UI layer over the ``curation`` engine.

``app.py`` is the entry point (``streamlit run dashboard/app.py``); the page scripts live in
``pages/`` at the repository root and stay thin. Caching and the background run live here,
never in ``curation/``. See docs/dashboard.md.
"""
