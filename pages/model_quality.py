"""Model quality: waits on a later stage; says what it will do and what to do now."""

from dashboard import placeholders, ui

ui.placeholder_page(placeholders.MODEL_QUALITY)
