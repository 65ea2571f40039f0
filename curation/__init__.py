"""Curation Studio engine: turns photo libraries into Memories albums.

Plain Python, importable without Streamlit. Nothing heavy happens at import time.
"""

__version__ = "0.1.0"
