"""The app's pages, in one registry: app.py builds the navigation from it, tests visit each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    section: str  # navigation group
    script: str  # file in pages/
    title: str
    icon: str
    url_path: str
    default: bool = False

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.script

    @property
    def url(self) -> str:
        """The page's address below the app's root ("" for the default page)."""
        return "" if self.default else self.url_path


# fmt: off
PAGES: tuple[PageSpec, ...] = (
    PageSpec("Curate", "libraries.py", "Libraries & runs", ":material/photo_library:", "libraries", default=True),
    PageSpec("Review", "memories_review.py", "Memories review", ":material/auto_stories:", "memories"),
    PageSpec("Review", "people.py", "People", ":material/groups:", "people"),
    PageSpec("Analyse", "embedding_explorer.py", "Embedding explorer", ":material/scatter_plot:", "embeddings"),
    PageSpec("Analyse", "model_quality.py", "Model quality", ":material/monitoring:", "model-quality"),
    PageSpec("Analyse", "engagement_sql.py", "Engagement SQL", ":material/terminal:", "sql"),
    PageSpec("Label", "labeling_queue.py", "Labeling", ":material/label:", "labeling"),
)
# fmt: on


def page(spec: PageSpec) -> StreamlitPage:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec.default)


def page_by_script(script: str) -> StreamlitPage:
    return page(next(s for s in PAGES if s.script == script))


def sections() -> dict[str, list[StreamlitPage]]:
    out: dict[str, list[StreamlitPage]] = {}
    for spec in PAGES:
        out.setdefault(spec.section, []).append(page(spec))
    return out
