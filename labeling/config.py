"""What each kind of labeling task asks, as Label Studio labeling configs.

One project per :class:`TaskType`. The choices people see are the readable titles; the
converters (``labeling/convert.py``) map them to the engine's enums, so a title may be
reworded here without touching stored labels (they are stored as enum values).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import quoteattr

from curation.vision.clutter import CATEGORIES, ClutterCategory
from curation.vision.themes import THEME_TITLES, THEMES, Theme


class TaskType(StrEnum):
    THEMES = "themes"  # multi-choice over the theme taxonomy
    CLUTTER = "clutter"  # single choice: photo, screenshot, receipt, document
    SAME_PERSON = "same_person"  # two face crops: the same person or not
    SAME_EVENT = "same_event"  # the photos either side of a doubtful event boundary: one event or two

    @classmethod
    def parse(cls, value: str) -> TaskType:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(
                f"unknown task type {value!r}; use one of: {', '.join(t.value for t in cls)}"
            ) from None


PHOTO_TASKS = (TaskType.THEMES, TaskType.CLUTTER)  # one photo each; the others ask about a pair

# The names in the configs; results and predictions refer to them.
IMAGE = "image"
FACE_A = "face_a"
FACE_B = "face_b"
PHOTO_A = "photo_a"
PHOTO_B = "photo_b"
THEMES_FROM = "themes"
CLUTTER_FROM = "clutter"
SAME_PERSON_FROM = "same_person"
SAME_EVENT_FROM = "same_event"

NO_THEME = "None of these"  # an explicit answer, so an empty result never means "no theme"

CLUTTER_TITLES: dict[ClutterCategory, str] = {
    ClutterCategory.PHOTO: "Photo (a moment worth keeping)",
    ClutterCategory.SCREENSHOT: "Screenshot",
    ClutterCategory.RECEIPT: "Receipt",
    ClutterCategory.DOCUMENT: "Document",
}


class SamePerson(StrEnum):
    YES = "Same person"
    NO = "Different people"
    UNSURE = "Can't tell"


class SameEvent(StrEnum):
    YES = "Same event"
    NO = "Different events"
    UNSURE = "Can't tell"


@dataclass(frozen=True)
class ProjectSpec:
    task_type: TaskType
    title: str
    description: str
    label_config: str


def _choices(values: list[str]) -> str:
    return "\n".join(f"    <Choice value={quoteattr(v)}/>" for v in values)


def themes_config() -> str:
    titles = [THEME_TITLES[t] for t in THEMES] + [NO_THEME]
    return (
        "<View>\n"
        '  <Header value="$reason" size="6"/>\n'
        f'  <Image name="{IMAGE}" value="${IMAGE}" maxWidth="900px"/>\n'
        f'  <Choices name="{THEMES_FROM}" toName="{IMAGE}" choice="multiple" showInline="true" required="true" '
        'requiredMessage="Pick every theme that fits, or None of these.">\n'
        f"{_choices(titles)}\n"
        "  </Choices>\n"
        "</View>"
    )


def clutter_config() -> str:
    titles = [CLUTTER_TITLES[c] for c in CATEGORIES]
    return (
        "<View>\n"
        '  <Header value="$reason" size="6"/>\n'
        f'  <Image name="{IMAGE}" value="${IMAGE}" maxWidth="900px"/>\n'
        f'  <Choices name="{CLUTTER_FROM}" toName="{IMAGE}" choice="single-radio" showInline="true" required="true">\n'
        f"{_choices(titles)}\n"
        "  </Choices>\n"
        "</View>"
    )


def same_person_config() -> str:
    return (
        "<View>\n"
        '  <Header value="$reason" size="6"/>\n'
        '  <View style="display: flex; gap: 16px;">\n'
        f'    <Image name="{FACE_A}" value="${FACE_A}" maxWidth="320px"/>\n'
        f'    <Image name="{FACE_B}" value="${FACE_B}" maxWidth="320px"/>\n'
        "  </View>\n"
        f'  <Choices name="{SAME_PERSON_FROM}" toName="{FACE_A}" choice="single-radio" showInline="true" required="true">\n'
        f"{_choices([s.value for s in SamePerson])}\n"
        "  </Choices>\n"
        "</View>"
    )


def same_event_config() -> str:
    return (
        "<View>\n"
        '  <Header value="$reason" size="6"/>\n'
        '  <View style="display: flex; gap: 16px;">\n'
        f'    <Image name="{PHOTO_A}" value="${PHOTO_A}" maxWidth="440px"/>\n'
        f'    <Image name="{PHOTO_B}" value="${PHOTO_B}" maxWidth="440px"/>\n'
        "  </View>\n"
        f'  <Choices name="{SAME_EVENT_FROM}" toName="{PHOTO_A}" choice="single-radio" showInline="true" required="true">\n'
        f"{_choices([s.value for s in SameEvent])}\n"
        "  </Choices>\n"
        "</View>"
    )


_DESCRIPTIONS = {
    TaskType.THEMES: "Curation Studio: which themes does each photo show? Hard cases mined from the theme model.",
    TaskType.CLUTTER: "Curation Studio: is each image a photo or clutter (screenshot, receipt, document)?",
    TaskType.SAME_PERSON: "Curation Studio: are the two faces the same person?",
    TaskType.SAME_EVENT: "Curation Studio: were the two photos (taken one after the other) taken at the same event?",
}
_CONFIGS = {
    TaskType.THEMES: themes_config,
    TaskType.CLUTTER: clutter_config,
    TaskType.SAME_PERSON: same_person_config,
    TaskType.SAME_EVENT: same_event_config,
}


def project_title(task_type: TaskType) -> str:
    """The title that identifies the project on the server (looked up before creating one)."""
    return f"Curation Studio · {TaskType(task_type).value}"


def project_spec(task_type: TaskType | str) -> ProjectSpec:
    task_type = TaskType.parse(str(task_type))
    return ProjectSpec(task_type, project_title(task_type), _DESCRIPTIONS[task_type], _CONFIGS[task_type]())


def theme_from_title(title: str) -> Theme:
    """Choice title (or enum value) -> Theme."""
    for theme in THEMES:
        if title in (THEME_TITLES[theme], theme.value):
            return theme
    raise ValueError(f"{title!r} is not a theme of the labeling config; known: {[THEME_TITLES[t] for t in THEMES]}")


def clutter_from_title(title: str) -> ClutterCategory:
    for category in CATEGORIES:
        if title in (CLUTTER_TITLES[category], category.value):
            return category
    raise ValueError(
        f"{title!r} is not a clutter category of the labeling config; known: {list(CLUTTER_TITLES.values())}"
    )
