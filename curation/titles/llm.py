"""Titles from a language model behind an OpenAI-compatible ``/chat/completions`` endpoint
(OpenAI, Azure OpenAI, vLLM, llama.cpp server, Ollama...). Off by default.

The model gets the album's facts as JSON (plus the names as the language writes them and
the grounded generator's titles as examples) and must answer JSON
``{"titles": [...], "caption": "..."}``. Its answer is then checked against the facts
(:mod:`curation.titles.grounding`); on any failure (no connection, timeout, HTTP error,
bad JSON, ungrounded text) the album gets the grounded generator's titles and the
result's ``fallback_reason`` says why. The API key is sent in the ``Authorization``
header and nowhere else: it is not logged, and error texts are scrubbed of it.
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import SecretStr

from curation.albums.records import AlbumFacts
from curation.titles.base import (
    TitleGenerator,
    TitleGeneratorConfigError,
    TitleResult,
    TitleSuggestion,
    register_title_generator,
)
from curation.titles.grounded import GroundedTitleGenerator
from curation.titles.grounding import MAX_TITLE_CHARS, grounding_problems, localised_names
from curation.titles.lexicon import WORD, Language, lexicon

log = logging.getLogger(__name__)

_LANGUAGE_NAMES = {Language.EN: "English", Language.DE: "German", Language.FR: "French",
                   Language.ES: "Spanish", Language.IT: "Italian", Language.NL: "Dutch"}  # fmt: skip

SYSTEM_PROMPT = (
    "You write titles and a caption for one album of a printed photo book. "
    "Write in {language}. Use only the facts you are given: never add a place, a person, a date, "
    "a month, a year, a number or an occasion that is not in them. Use the names exactly as given "
    "under 'names'. Sentence case: capitalise only the first word and names (German nouns as usual). "
    "Titles: 3 to 5, best first, at most {title_chars} characters each, no quotes, no emoji. "
    "Caption: one or two short sentences, at most {caption_chars} characters. "
    'Answer with one JSON object and nothing else: {{"titles": ["..."], "caption": "..."}}'
)


class LLMError(RuntimeError):
    """The endpoint could not be used (its text never contains the API key)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


# (url, headers, body, timeout_s) -> response; raises LLMError when nothing came back.
Transport = Callable[[str, Mapping[str, str], bytes, float], HttpResponse]


def urllib_transport(url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> HttpResponse:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - URL from settings
            return HttpResponse(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, exc.read() if exc.fp is not None else b"")
    except (TimeoutError, socket.timeout):
        raise LLMError(f"no answer within {timeout_s:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise LLMError(f"no answer within {timeout_s:g} s") from None
        raise LLMError(f"cannot reach the endpoint: {reason}") from None
    except OSError as exc:
        raise LLMError(f"connection failed: {exc.__class__.__name__}") from None


def parse_completion(body: bytes) -> tuple[list[str], str]:
    """(titles, caption) from a /chat/completions response body; LLMError when malformed."""
    try:
        payload = json.loads(body)
        content = payload["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError("the response is not a chat completion") from None
    text = str(content).strip()
    if text.startswith("```"):  # models like to fence JSON even when asked not to
        text = text.strip("`").removeprefix("json").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        raise LLMError("the model did not answer with JSON") from None
    if not isinstance(answer, dict):
        raise LLMError("the model's JSON is not an object")
    titles, caption = answer.get("titles"), answer.get("caption")
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles) or not isinstance(caption, str):
        raise LLMError('the model\'s JSON lacks "titles" (list of strings) or "caption" (string)')
    return [" ".join(t.split()) for t in titles], " ".join(caption.split())


def _facts_used(text: str, facts: AlbumFacts, language: Language) -> dict[str, Any]:
    """Which facts a free text mentions, for the trace."""
    used: dict[str, Any] = {}
    lower = text.casefold()
    words = {w.casefold() for w in WORD.findall(text)}
    local = localised_names(facts, language)
    if facts.place is not None and any(
        str(v).casefold() in lower for v in (facts.place.name, local.get("place")) if v
    ):
        used["place"] = facts.place.name
    for key in ("season", "holiday", "theme"):
        if key in local and str(local[key]).casefold() in lower:
            used[key] = getattr(facts, key).value if key != "holiday" else facts.holiday
    people = [p for p in (*facts.subjects, *facts.people) if p.casefold() in words]
    if people:
        used["people"] = people
    years = [y for y in facts.years if str(y) in text]
    if years:
        used["years"] = years
    return used


@register_title_generator("llm")
class LLMTitleGenerator(TitleGenerator):
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | str = "",
        timeout_s: float = 20.0,
        transport: Transport | None = None,
        fallback: TitleGenerator | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise TitleGeneratorConfigError(
                f"LLM base_url must start with http:// or https://, got {base_url!r}; "
                "set CURATION_LLM__BASE_URL, e.g. http://127.0.0.1:8000/v1"
            )
        if not model:
            raise TitleGeneratorConfigError("LLM model is empty; set CURATION_LLM__MODEL")
        if timeout_s <= 0:
            raise TitleGeneratorConfigError(f"LLM timeout_s must be > 0, got {timeout_s}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.timeout_s = timeout_s
        self.transport = transport or urllib_transport
        self.fallback = fallback or GroundedTitleGenerator()
        self._known_names: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"LLMTitleGenerator(base_url={self.base_url!r}, model={self.model!r}, api_key=SecretStr('**********'))"

    @classmethod
    def from_settings(cls, settings: Any) -> LLMTitleGenerator:  # noqa: ANN401
        llm = settings.llm
        if not llm.enabled:
            raise TitleGeneratorConfigError(
                "title_generator is 'llm' but the LLM is disabled; set CURATION_LLM__ENABLED=true "
                "(and CURATION_LLM__BASE_URL, CURATION_LLM__MODEL, CURATION_LLM__API_KEY), "
                "or CURATION_TITLE_GENERATOR=grounded"
            )
        return cls(base_url=llm.base_url, model=llm.model, api_key=llm.api_key, timeout_s=llm.timeout_s)

    def prepare(self, facts: Sequence[AlbumFacts]) -> None:
        """Learn every person and place of the library, so a name from one album in
        another album's title is caught."""
        names: set[str] = set()
        for f in facts:
            names |= set(f.subjects) | set(f.people)
            names |= {p.name for p in (f.place, *f.countries, *f.highlights) if p is not None}
        self._known_names = frozenset(n for n in names if n)

    def generate(self, facts: AlbumFacts, language: Language | str) -> TitleResult:
        lang = lexicon(language).language
        grounded = self.fallback.generate(facts, lang)
        try:
            titles, caption = self._ask(facts, lang, grounded)
        except LLMError as exc:
            reason = self._scrub(str(exc))
            log.warning("LLM titles for a %s album not used: %s", facts.kind.value, reason)
            return replace(grounded, fallback_reason=f"llm: {reason}")
        problems = grounding_problems(titles, caption, facts, lang, known_names=self._known_names)
        if problems:
            reason = self._scrub("; ".join(problems[:3]))
            log.info("LLM titles for a %s album not grounded: %s", facts.kind.value, reason)
            return replace(grounded, fallback_reason=f"llm output not grounded: {reason}")
        return TitleResult(
            suggestions=tuple(TitleSuggestion(t, _facts_used(t, facts, lang)) for t in titles),
            caption=caption,
            caption_facts_used=_facts_used(caption, facts, lang),
            generator=self.name,
            language=lang,
        )

    def _ask(self, facts: AlbumFacts, language: Language, grounded: TitleResult) -> tuple[list[str], str]:
        system = SYSTEM_PROMPT.format(
            language=_LANGUAGE_NAMES[language], title_chars=min(60, MAX_TITLE_CHARS), caption_chars=200
        )
        user = {
            "language": language.value,
            "facts": facts.to_dict(),
            "names": localised_names(facts, language),
            "examples": grounded.titles,
        }
        body = json.dumps(
            {
                "model": self.model,
                "temperature": 0,
                "response_format": {"type": "json_object"},
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": json.dumps(user, ensure_ascii=False)},
                ],
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._api_key.get_secret_value()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/chat/completions"
        log.debug("asking %s (model %s) for titles of a %s album", url, self.model, facts.kind.value)
        response = self.transport(url, headers, body, self.timeout_s)
        if response.status != 200:
            detail = response.body[:200].decode("utf-8", "replace")
            raise LLMError(f"HTTP {response.status} from {url}: {detail}")
        return parse_completion(response.body)

    def _scrub(self, text: str) -> str:
        key = self._api_key.get_secret_value()
        return text.replace(key, "***") if key else text
