"""Title generators: the records they return, their base class and their registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.albums.records import AlbumFacts
from curation.registry import Registry
from curation.titles.lexicon import Language


class UnknownTitleGeneratorError(ValueError):
    """No title generator is registered under that name."""


class TitleGeneratorConfigError(ValueError):
    """A title generator's settings are missing or inconsistent."""


@dataclass(frozen=True)
class TitleSuggestion:
    text: str
    # fact name -> the value the text used, e.g. {"place": "Lisbon", "season": "summer"}:
    # the trace the review page shows next to each title.
    facts_used: Mapping[str, Any] = field(default_factory=dict)
    template: str = ""  # which template made it ("" for LLM titles)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "facts_used": dict(self.facts_used), "template": self.template}


@dataclass(frozen=True)
class TitleResult:
    suggestions: tuple[TitleSuggestion, ...]  # best first; suggestions[0] is the title
    caption: str
    caption_facts_used: Mapping[str, Any]
    generator: str  # the generator whose text this is ("grounded" after an LLM fallback)
    language: Language
    fallback_reason: str | None = None  # why the configured generator's output was not used

    @property
    def title(self) -> str:
        return self.suggestions[0].text

    @property
    def titles(self) -> list[str]:
        return [s.text for s in self.suggestions]

    def trace(self) -> dict[str, Any]:
        """JSON for albums.title_trace: every suggestion and the caption with their facts."""
        return {
            "suggestions": [s.to_dict() for s in self.suggestions],
            "caption": {"text": self.caption, "facts_used": dict(self.caption_facts_used)},
            "generator": self.generator,
            "language": self.language.value,
            "fallback_reason": self.fallback_reason,
        }


class TitleGenerator(ABC):
    """Writes title suggestions and a caption for an album from its facts only."""

    name: ClassVar[str]  # set by @register_title_generator

    @classmethod
    def from_settings(cls, settings: Any) -> TitleGenerator:  # noqa: ANN401 - curation.settings.Settings
        """Build from the project's Settings (generators that need none ignore them)."""
        return cls()

    def prepare(self, facts: Sequence[AlbumFacts]) -> None:
        """Called once with every album's facts before ``generate`` (e.g. to learn the
        library's names for grounding checks). Default: nothing."""

    @abstractmethod
    def generate(self, facts: AlbumFacts, language: Language) -> TitleResult: ...


_REGISTRY: Registry[type[TitleGenerator]] = Registry(
    "title generator",
    error=UnknownTitleGeneratorError,
    hint="Set CURATION_TITLE_GENERATOR to one of them, or register a new one with @register_title_generator.",
)


def register_title_generator(name: str) -> Callable[[type[TitleGenerator]], type[TitleGenerator]]:
    return _REGISTRY.register(name)


def list_title_generators() -> list[str]:
    return _REGISTRY.names()


def create_title_generator(name: str, settings: Any = None, **kwargs: Any) -> TitleGenerator:  # noqa: ANN401
    """The generator registered as ``name``: from ``settings`` (curation.settings.Settings)
    when given, else built with ``kwargs``."""
    cls = _REGISTRY[name]
    if settings is not None and not kwargs:
        return cls.from_settings(settings)
    return cls(**kwargs)
