"""The only module that talks to Label Studio (through ``label-studio-sdk`` 2.x).

Every SDK call goes through :meth:`LabelStudioClient._call`, which turns transport and HTTP
failures into :class:`LabelStudioUnavailable`, :class:`LabelStudioAuthError` or
:class:`LabelStudioRequestError`, each with a message that says how to fix it, and scrubs
the API key out of anything it reports. The key lives in a ``SecretStr`` until the SDK
client is built and is never logged, raised or shown.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr

from curation.settings import Settings
from labeling.config import ProjectSpec

if TYPE_CHECKING:  # the SDK takes seconds to import: only when a client is built
    from label_studio_sdk import LabelStudio

log = logging.getLogger(__name__)

T = TypeVar("T")

# Where Label Studio's local-files serving is rooted (LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT);
# scripts/labelstudio.sh starts it with /. Settings may override it with
# ``label_studio.document_root`` once that field exists.
DEFAULT_DOCUMENT_ROOT = Path("/")
START_HINT = "start one with `bash scripts/labelstudio.sh start` (it prints the URL)"
KEY_HINT = (
    "set CURATION_LABEL_STUDIO__API_KEY (or `api_key` under [curation.label_studio] in "
    ".streamlit/secrets.toml) to the token shown in Label Studio under Account & Settings"
)


class LabelStudioError(RuntimeError):
    """Label Studio could not do what the labeling loop asked; the message says how to fix it."""


class LabelStudioNotConfigured(LabelStudioError):
    """No URL or API key in the settings."""


class LabelStudioUnavailable(LabelStudioError):
    """Nothing answers at the configured URL (down, wrong port, timed out)."""


class LabelStudioAuthError(LabelStudioError):
    """The server refused the API key."""


class LabelStudioRequestError(LabelStudioError):
    """The server answered with an error to a request we made (e.g. an invalid config)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Connection:
    """Where the server is and how to log in. ``repr`` never shows the key (SecretStr)."""

    url: str
    api_key: SecretStr
    document_root: Path = DEFAULT_DOCUMENT_ROOT
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Connection:
        ls = settings.label_studio
        root = getattr(ls, "document_root", None) or DEFAULT_DOCUMENT_ROOT
        return cls(url=str(ls.url).rstrip("/"), api_key=ls.api_key, document_root=Path(root))

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise LabelStudioNotConfigured(
                f"the Label Studio URL {self.url!r} is not an http(s) URL; set CURATION_LABEL_STUDIO__URL, "
                f"e.g. http://127.0.0.1:8080 ({START_HINT})"
            )
        if not self.api_key.get_secret_value().strip():
            raise LabelStudioNotConfigured(f"no Label Studio API key is configured: {KEY_HINT}")


def redact(text: str, secret: SecretStr | str) -> str:
    """``text`` with every occurrence of the secret replaced by ``**********``."""
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return text.replace(value, "**********") if value else text


def _plain(obj: Any) -> Any:  # noqa: ANN401 - SDK pydantic models or plain JSON
    """SDK models -> dicts (the converters take Label Studio's JSON)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_none=False)
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


class LabelStudioClient:
    """A thin, typed wrapper over the SDK for what the labeling loop needs."""

    def __init__(self, connection: Connection, *, sdk: LabelStudio | None = None) -> None:
        connection.validate()
        self.connection = connection
        self._sdk = sdk

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelStudioClient:
        return cls(Connection.from_settings(settings))

    def __repr__(self) -> str:
        return f"LabelStudioClient({self.connection.url!r})"

    @property
    def url(self) -> str:
        return self.connection.url

    @property
    def sdk(self) -> LabelStudio:
        if self._sdk is None:
            with warnings.catch_warnings():
                # the SDK still defines pydantic-v1-style validators: noise, not our concern
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"label_studio_sdk\..*")
                warnings.filterwarnings("ignore", message=r".*Pydantic V2.*", category=DeprecationWarning)
                from label_studio_sdk import LabelStudio

            key = self.connection.api_key.get_secret_value()
            self._sdk = self._call(
                "connect",
                lambda: LabelStudio(base_url=self.connection.url, api_key=key, timeout=self.connection.timeout_s),
            )
        return self._sdk

    # ------------------------------------------------------------------ error mapping

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
            raise LabelStudioUnavailable(
                f"Label Studio is not reachable at {self.url} ({type(exc).__name__} while trying to {what}): "
                f"{START_HINT}, or point CURATION_LABEL_STUDIO__URL at a running server. Nothing was changed; "
                "the labeling queue is intact."
            ) from None
        except httpx.TimeoutException as exc:
            raise LabelStudioUnavailable(
                f"Label Studio at {self.url} did not answer in {self.connection.timeout_s:.0f}s "
                f"({type(exc).__name__} while trying to {what}); is it overloaded or still starting? "
                "Try again; the labeling queue is intact."
            ) from None
        except ApiError as exc:
            status = exc.status_code
            body = self._scrub(str(exc.body))[:500]
            if status in (401, 403):
                raise LabelStudioAuthError(
                    f"Label Studio at {self.url} refused the API key (HTTP {status} while trying to {what}): "
                    f"{KEY_HINT}. With scripts/labelstudio.sh the key is in the env file it names. "
                    "The labeling queue is intact."
                ) from None
            raise LabelStudioRequestError(
                f"Label Studio at {self.url} answered HTTP {status} while trying to {what}: {body}", status
            ) from None
        except httpx.HTTPError as exc:
            raise LabelStudioUnavailable(
                f"talking to Label Studio at {self.url} failed while trying to {what}: "
                f"{self._scrub(str(exc))}. {START_HINT}"
            ) from None

    def _scrub(self, text: str) -> str:
        return redact(text, self.connection.api_key)

    # ------------------------------------------------------------------ calls

    def check(self) -> str:
        """Log in (whoami); returns the user's e-mail. Raises before anything is changed."""
        me = self._call("check who we are (GET /api/current-user/whoami)", lambda: self.sdk.users.whoami())
        return str(getattr(me, "email", None) or getattr(me, "username", None) or me.id)

    def version(self) -> str:
        info = self._call("read the server version", lambda: self.sdk.versions.get())
        data = _plain(info)
        return str(data.get("release") or data.get("label-studio-os-package", {}).get("version") or data)

    def find_project(self, title: str) -> int | None:
        projects = self._call("list projects", lambda: list(self.sdk.projects.list(title=title, page_size=100)))
        exact = sorted(int(p.id) for p in projects if p.title == title)
        return exact[0] if exact else None

    def ensure_project(self, spec: ProjectSpec) -> int:
        """The project titled ``spec.title`` (created with its labeling config when missing; its
        config is brought up to date when it differs)."""
        pid = self.find_project(spec.title)
        if pid is None:
            project = self._call(
                f"create the project {spec.title!r}",
                lambda: self.sdk.projects.create(
                    title=spec.title, description=spec.description, label_config=spec.label_config
                ),
            )
            log.info("created Label Studio project %s (%s)", project.id, spec.title)
            return int(project.id)
        current = self._call(f"read project {pid}", lambda: self.sdk.projects.get(id=pid))
        if (current.label_config or "").strip() != spec.label_config.strip():
            self._call(
                f"update the labeling config of project {pid}",
                lambda: self.sdk.projects.update(id=pid, label_config=spec.label_config),
            )
            log.info("updated the labeling config of Label Studio project %s", pid)
        return pid

    def ensure_local_storage(self, project_id: int, folder: Path) -> int:
        """Register ``folder`` as a local-files import storage of the project (once), so the
        server serves the images under it. Nothing is synced: tasks are imported by us."""
        folder = Path(folder).resolve()
        storages = self._call(
            f"list the storages of project {project_id}",
            lambda: self.sdk.import_storage.local.list(project=project_id),
        )
        for storage in storages:
            if storage.path and Path(storage.path) == folder:
                return int(storage.id)
        try:
            storage = self._call(
                f"register {folder} as local storage of project {project_id}",
                lambda: self.sdk.import_storage.local.create(
                    project=project_id, path=str(folder), title="Curation Studio cache", use_blob_urls=True
                ),
            )
        except LabelStudioRequestError as exc:
            raise LabelStudioRequestError(
                f"{exc} -- Label Studio must be started with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and "
                f"LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT set to a folder above {folder} (scripts/labelstudio.sh "
                f"does both, with /); the labeling loop assumes the root {self.connection.document_root}.",
                exc.status_code,
            ) from None
        return int(storage.id)

    def iter_tasks(self, project_id: int, *, with_annotations: bool = False) -> Iterator[dict]:
        """Every task of the project as the JSON the server sends (with annotations when asked).

        Read from ``GET /api/tasks`` through the SDK's authenticated HTTP client: the SDK's
        typed task model (2.0.x) declares ``annotations`` a string and warns on real ones."""
        page, seen = 1, 0
        while True:
            body = self._get_json(
                f"list the tasks of project {project_id}",
                "api/tasks",
                {"project": project_id, "fields": "all" if with_annotations else "task_only", "page": page,
                 "page_size": 500},
            )  # fmt: skip
            tasks = body.get("tasks") or []
            yield from tasks
            seen += len(tasks)
            if not tasks or seen >= int(body.get("total", 0)):
                return
            page += 1

    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> list[int]:
        """Import tasks (with their predictions); returns the new task ids in order."""
        if not tasks:
            return []
        response = self._call(
            f"import {len(tasks)} tasks into project {project_id}",
            lambda: self.sdk.projects.import_tasks(
                id=project_id, request=[dict(t) for t in tasks], return_task_ids=True, commit_to_project=True
            ),
        )
        data = _plain(response)
        ids = [int(i) for i in (data.get("task_ids") or [])]
        if len(ids) != len(tasks):
            raise LabelStudioRequestError(
                f"importing {len(tasks)} tasks into project {project_id} returned {len(ids)} task ids ({data}); "
                "the next push matches them by their key and records them"
            )
        return ids

    def users(self) -> dict[int, str]:
        users = self._call("list users", lambda: list(self.sdk.users.list()))
        return {int(u.id): str(u.email or u.username or u.id) for u in users}

    def create_annotation(self, task_id: int, result: list[dict], **fields: Any) -> int:  # noqa: ANN401
        """Annotate a task as an annotator would (tests, scripted review)."""
        ann = self._call(
            f"annotate task {task_id}", lambda: self.sdk.annotations.create(id=task_id, result=result, **fields)
        )
        return int(ann.id)

    def get(self, path: str) -> tuple[int, bytes, str]:
        """GET a server path (e.g. a task's ``/data/local-files/?d=...`` image) with our
        credentials; returns (status, body, content type). For checking that images load."""
        if path.startswith(self.url):
            path = path[len(self.url) :]
        response = self._call(
            f"fetch {path}", lambda: self.sdk._client_wrapper.httpx_client.request(path.lstrip("/"), method="GET")
        )
        return response.status_code, response.content, response.headers.get("content-type", "")

    def _get_json(self, what: str, path: str, params: Mapping[str, Any]) -> dict:
        response = self._call(
            what, lambda: self.sdk._client_wrapper.httpx_client.request(path, method="GET", params=dict(params))
        )
        if response.status_code in (401, 403):
            raise LabelStudioAuthError(
                f"Label Studio at {self.url} refused the API key (HTTP {response.status_code} while trying to "
                f"{what}): {KEY_HINT}. The labeling queue is intact."
            )
        if response.status_code >= 400:
            raise LabelStudioRequestError(
                f"Label Studio at {self.url} answered HTTP {response.status_code} while trying to {what}: "
                f"{self._scrub(response.text)[:500]}",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise LabelStudioRequestError(
                f"Label Studio at {self.url} sent something that is not JSON while trying to {what}: "
                f"{self._scrub(response.text)[:200]!r}; is CURATION_LABEL_STUDIO__URL the Label Studio address?",
                response.status_code,
            ) from None
