"""Named implementations chosen by a setting: embedders, title generators.

    _REGISTRY = Registry("embedder", error=UnknownModelError, hint="Set CURATION_EMBEDDER to one of them.")

    @_REGISTRY.register("efficientnet_lite0")   # sets the class's ``name``
    class EfficientNetLite0Embedder(Embedder): ...

    _REGISTRY["efficientnet_lite0"]              # the class; an unknown name raises ``error``
                                                 # with the valid names and the hint
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C", bound=type)


class Registry(Generic[C]):
    def __init__(self, what: str, *, error: type[Exception], hint: str) -> None:
        self.what = what  # "embedder": for the messages
        self.error = error
        self.hint = hint
        self._classes: dict[str, C] = {}

    def register(self, name: str) -> Callable[[C], C]:
        def register(cls: C) -> C:
            if name in self._classes:
                article = "an" if self.what[:1] in "aeiou" else "a"
                raise ValueError(
                    f"{article} {self.what} is already registered as {name!r}: {self._classes[name].__qualname__}"
                )
            cls.name = name
            self._classes[name] = cls
            return cls

        return register

    def names(self) -> list[str]:
        return sorted(self._classes)

    def __getitem__(self, name: str) -> C:
        try:
            return self._classes[name]
        except KeyError:
            raise self.error(
                f"unknown {self.what} {name!r}; valid names: {', '.join(self.names())}. {self.hint}"
            ) from None
