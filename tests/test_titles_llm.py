"""The LLM title generator against a stub OpenAI-compatible server on 127.0.0.1 (no
network), and the grounding checks its answers must pass."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from curation.albums import AlbumFacts, AlbumKind, Place, PlaceLevel, Season
from curation.settings import Settings
from curation.titles import LLMTitleGenerator, TitleGeneratorConfigError, create_title_generator
from curation.titles.grounding import grounding_problems
from curation.titles.llm import HttpResponse, LLMError, parse_completion

KEY = "sk-test-5a1b2c3d4e5f-do-not-print"
LISBON = AlbumFacts(
    AlbumKind.TRIP, 40, start=date(2023, 7, 3), end=date(2023, 7, 10), n_days=8, nights=7, years=(2023,),
    season=Season.SUMMER, place=Place("Lisbon", PlaceLevel.CITY, "PT"), people=("Anna", "Ben"),
)  # fmt: skip


def completion(titles: list[str], caption: str) -> bytes:
    content = json.dumps({"titles": titles, "caption": caption})
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


@dataclass
class Stub:
    url: str = ""
    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            time.sleep(state.delay_s)
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()


def generator(stub: Stub, timeout_s: float = 5.0) -> LLMTitleGenerator:
    return LLMTitleGenerator(base_url=stub.url, model="tiny-model", api_key=KEY, timeout_s=timeout_s)


def test_a_grounded_answer_is_used(stub: Stub) -> None:
    stub.body = completion(
        ["Sunny days in Lisbon", "A summer week with Anna and Ben", "Lisbon in July"],
        "Seven nights in Lisbon with Anna and Ben, July 2023.",
    )
    result = generator(stub).generate(LISBON, "en")
    assert result.generator == "llm" and result.fallback_reason is None
    assert result.titles == ["Sunny days in Lisbon", "A summer week with Anna and Ben", "Lisbon in July"]
    assert result.suggestions[1].facts_used == {"season": "summer", "people": ["Anna", "Ben"]}
    assert result.caption_facts_used["place"] == "Lisbon"


def test_the_request_is_an_openai_chat_completion(stub: Stub) -> None:
    stub.body = completion(["Sommertage in Lissabon"], "Sieben Nächte in Lissabon im Juli 2023.")
    result = generator(stub).generate(LISBON, "de")
    assert result.generator == "llm"
    (request,) = stub.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    body = request["json"]
    assert body["model"] == "tiny-model" and body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "German" in body["messages"][0]["content"]
    user = json.loads(body["messages"][1]["content"])
    assert user["facts"]["place"]["name"] == "Lisbon"
    assert user["names"]["place"] == "Lissabon"
    assert user["examples"][0] == "Eine Woche in Lissabon"


@pytest.mark.parametrize(
    ("titles", "caption", "why"),
    [
        (["Summer in Lisbon", "A day trip to Porto"], "A week in Lisbon.", "'Porto'"),
        (["Paris in summer"], "A week away.", "place 'Paris'"),
        (["Summer in Lisbon with Carla"], "A week in Lisbon.", "'Carla'"),
        (["Summer 2019 in Lisbon"], "A week in Lisbon.", "number 2019"),
        (["Lisbon in August"], "A week in Lisbon.", "month 'August'"),
        (["Winter in Lisbon"], "A week in Lisbon.", "season 'Winter'"),
        (["Christmas in Lisbon"], "A week in Lisbon.", "holiday"),
        (["A week in Lisbon and Spain"], "A week in Lisbon.", "country"),
        (["Summer in Lisbon"], "x" * 300, "caption of 300 characters"),
        ([], "A week in Lisbon.", "0 titles"),
    ],
)
def test_an_ungrounded_answer_falls_back_to_grounded_titles(stub: Stub, titles: list[str], caption: str, why: str) -> None:
    stub.body = completion(titles, caption)
    result = generator(stub).generate(LISBON, "en")
    assert result.generator == "grounded"
    assert result.title == "A week in Lisbon"
    assert result.fallback_reason.startswith("llm output not grounded")
    assert why in result.fallback_reason


def test_a_name_of_another_album_is_a_mix_up(stub: Stub) -> None:
    gen = generator(stub)
    other = AlbumFacts(AlbumKind.PERSON, 30, years=(2022,), subjects=("Zoë",))
    gen.prepare([LISBON, other])
    stub.body = completion(["Zoë in Lisbon"], "A week in Lisbon.")
    result = gen.generate(LISBON, "en")
    assert "'Zoë' belongs to another album" in result.fallback_reason


def test_a_timeout_falls_back(stub: Stub) -> None:
    stub.delay_s = 1.0
    stub.body = completion(["Summer in Lisbon"], "A week in Lisbon.")
    started = time.perf_counter()
    result = generator(stub, timeout_s=0.2).generate(LISBON, "en")
    assert time.perf_counter() - started < 1.0
    assert result.generator == "grounded"
    assert result.fallback_reason == "llm: no answer within 0.2 s"


def test_no_server_falls_back() -> None:
    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gen = LLMTitleGenerator(base_url=f"http://127.0.0.1:{port}/v1", model="m", api_key=KEY, timeout_s=2)
    result = gen.generate(LISBON, "en")
    assert result.generator == "grounded"
    assert result.fallback_reason.startswith("llm: cannot reach the endpoint")


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (500, b'{"error": "internal"}', "HTTP 500"),
        (200, b"<html>proxy error</html>", "not a chat completion"),
        (200, json.dumps({"choices": [{"message": {"content": "Here are some titles!"}}]}).encode(), "not answer with JSON"),
        (200, json.dumps({"choices": [{"message": {"content": '{"titles": "one"}'}}]}).encode(), 'lacks "titles"'),
    ],
)
def test_errors_and_bad_json_fall_back(stub: Stub, status: int, body: bytes, why: str) -> None:
    stub.status, stub.body = status, body
    result = generator(stub).generate(LISBON, "en")
    assert result.generator == "grounded" and why in result.fallback_reason


def test_the_api_key_never_reaches_logs_errors_or_reprs(stub: Stub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gen = generator(stub)
    reasons = []
    # A server that echoes the key back in its error, a good answer, an ungrounded one.
    for status, body in [
        (401, json.dumps({"error": f"invalid key {KEY}"}).encode()),
        (200, completion(["Summer in Lisbon"], "A week in Lisbon.")),
        (200, completion(["Summer in Porto"], "A week in Porto.")),
    ]:
        stub.status, stub.body = status, body
        reasons.append(gen.generate(LISBON, "en").fallback_reason or "")
    assert "HTTP 401" in reasons[0] and "***" in reasons[0]
    assert stub.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"  # it was sent...
    text = caplog.text + " ".join(reasons) + repr(gen) + str(gen.__dict__)
    assert KEY not in text  # ...and shown nowhere
    settings = Settings(llm={"enabled": True, "api_key": KEY})
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_fenced_json_is_accepted() -> None:
    inner = '```json\n{"titles": ["Summer in Lisbon"], "caption": "A week."}\n```'
    body = json.dumps({"choices": [{"message": {"content": inner}}]}).encode()
    assert parse_completion(body) == (["Summer in Lisbon"], "A week.")


def test_a_fake_transport_sees_the_request_and_its_errors_fall_back() -> None:
    seen = {}

    def fake(url: str, headers: dict, body: bytes, timeout_s: float) -> HttpResponse:
        seen.update(url=url, timeout=timeout_s, headers=headers)
        raise LLMError("connection reset")

    gen = LLMTitleGenerator(base_url="https://llm.example/v1/", model="m", api_key=KEY, transport=fake, timeout_s=3)
    result = gen.generate(LISBON, "fr")
    assert seen["url"] == "https://llm.example/v1/chat/completions" and seen["timeout"] == 3
    assert result.fallback_reason == "llm: connection reset"
    assert result.title == "Une semaine à Lisbonne"


def test_settings_build_the_generator_only_when_enabled() -> None:
    with pytest.raises(TitleGeneratorConfigError, match="CURATION_LLM__ENABLED=true"):
        create_title_generator("llm", settings=Settings(title_generator="llm"))
    settings = Settings(title_generator="llm", llm={"enabled": True, "base_url": "http://127.0.0.1:9/v1",
                                                    "model": "m", "api_key": KEY, "timeout_s": 3})  # fmt: skip
    gen = create_title_generator("llm", settings=settings)
    assert isinstance(gen, LLMTitleGenerator) and gen.base_url == "http://127.0.0.1:9/v1" and gen.timeout_s == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "127.0.0.1:8000"}, "must start with http"),
        ({"model": ""}, "model is empty"),
        ({"timeout_s": 0}, "timeout_s must be > 0"),
    ],
)
def test_bad_llm_settings_are_refused(kwargs: dict, match: str) -> None:
    params = {"base_url": "http://127.0.0.1:8000/v1", "model": "m"} | kwargs
    with pytest.raises(TitleGeneratorConfigError, match=match):
        LLMTitleGenerator(**params)


# ----------------------------------------------------------------------------- grounding


def test_german_nouns_are_not_mistaken_for_names() -> None:
    assert grounding_problems(["Sonnige Tage in Lissabon"], "Eine Woche Sommer mit Anna und Ben.", LISBON, "de") == []


def test_capitalised_words_must_be_names_outside_german() -> None:
    problems = grounding_problems(["Sunny Memories of Lisbon"], "A week.", LISBON, "en")
    assert problems == ["capitalised word 'Memories' is not a name from the facts: 'Sunny Memories of Lisbon'"]
    # Words the language's own templates use may be capitalised (title case).
    assert grounding_problems(["Beach Days in Lisbon"], "A week.", LISBON, "en") == []


def test_words_of_the_language_and_localised_names_pass() -> None:
    french = ["Un été à Lisbonne", "Lisbonne, juillet 2023"]
    assert grounding_problems(french, "Sept nuits à Lisbonne.", LISBON, "fr") == []
    assert grounding_problems(["Lisbon, 3 to 10 July"], "A week of 7 nights, 8 days.", LISBON, "en") == []
