"""Album titles and captions, written from an album's facts (places, dates, season,
holiday, people, theme) in the library's language.

    from curation.titles import create_title_generator
    gen = create_title_generator("grounded")               # or ("llm", settings=settings)
    result = gen.generate(album.facts, "de")
    result.title, result.titles, result.caption, result.trace()

Generators register with ``@register_title_generator``; importing this package builds no
client and opens no connection.
"""

from curation.titles.base import (
    TitleGenerator,
    TitleGeneratorConfigError,
    TitleResult,
    TitleSuggestion,
    UnknownTitleGeneratorError,
    create_title_generator,
    list_title_generators,
    register_title_generator,
)
from curation.titles.grounded import GroundedTitleGenerator
from curation.titles.lexicon import Language, UnknownLanguageError, lexicon, parse_language
from curation.titles.llm import LLMTitleGenerator

__all__ = [
    "GroundedTitleGenerator",
    "LLMTitleGenerator",
    "Language",
    "TitleGenerator",
    "TitleGeneratorConfigError",
    "TitleResult",
    "TitleSuggestion",
    "UnknownLanguageError",
    "UnknownTitleGeneratorError",
    "create_title_generator",
    "lexicon",
    "list_title_generators",
    "parse_language",
    "register_title_generator",
]
