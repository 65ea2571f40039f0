"""A multi-head classifier on stored photo embeddings: themes (multi-label) and clutter
(multi-class), trained together on whatever labels each photo has.

Standardise the embedding, then one linear layer per head: sigmoid per theme, softmax over
the clutter categories. A photo may carry labels for one head, the other, or both; a theme
label may be partial (pseudo-labels only say "surely yes" or "surely no" for some themes),
so the losses are masked. Small on purpose: a few hundred labels cannot support more.

``fit_heads`` is deterministic for a given seed (full-batch L-BFGS in float64 from a seeded
start), so the same labels and seed give identical weights and an identical version hash.
Plain numpy + scipy: torch would cost seconds to import and its thread pool crawls on a busy
two-core machine, for a model this size.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curation.vision.clutter import CATEGORIES
from curation.vision.themes import THEMES


class HeadsError(ValueError):
    """Unusable training data or a weights file that does not fit this code."""


@dataclass(frozen=True)
class TrainingData:
    """Rows of embeddings with their (possibly missing) labels and sample weights.

    ``themes``: [N, len(THEMES)] of 1 (has the theme), 0 (has not) or NaN (unknown);
    ``clutter``: [N] category index into CATEGORIES, or -1 (unknown).
    """

    x: np.ndarray
    themes: np.ndarray
    clutter: np.ndarray
    theme_weight: np.ndarray  # [N] weight of each row's theme labels
    clutter_weight: np.ndarray  # [N]

    def __post_init__(self) -> None:
        n = len(self.x)
        if self.x.ndim != 2:
            raise HeadsError(f"x must be [N, D] embeddings, got shape {list(self.x.shape)}")
        if self.themes.shape != (n, len(THEMES)):
            raise HeadsError(f"themes must be [{n}, {len(THEMES)}] (THEMES order), got {list(self.themes.shape)}")
        if self.clutter.shape != (n,):
            raise HeadsError(f"clutter must be [{n}] category indices or -1, got {list(self.clutter.shape)}")
        if len(self.theme_weight) != n or len(self.clutter_weight) != n:
            raise HeadsError("one theme weight and one clutter weight per row")
        if ((self.clutter < -1) | (self.clutter >= len(CATEGORIES))).any():
            raise HeadsError(f"clutter labels must be -1 or 0..{len(CATEGORIES) - 1}")

    @property
    def has_themes(self) -> np.ndarray:
        return ~np.isnan(self.themes).all(axis=1)

    @property
    def has_clutter(self) -> np.ndarray:
        return self.clutter >= 0

    def subset(self, rows: np.ndarray) -> TrainingData:
        return TrainingData(
            self.x[rows], self.themes[rows], self.clutter[rows], self.theme_weight[rows], self.clutter_weight[rows]
        )


@dataclass(frozen=True)
class HeadsWeights:
    """The fitted heads. A head trained on no labels is ``None`` (its task is left as it was)."""

    mean: np.ndarray  # [D]
    scale: np.ndarray  # [D]
    theme_w: np.ndarray | None  # [D, len(THEMES)]
    theme_b: np.ndarray | None
    clutter_w: np.ndarray | None  # [D, len(CATEGORIES)]
    clutter_b: np.ndarray | None

    @property
    def dim(self) -> int:
        return len(self.mean)

    def _z(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise HeadsError(
                f"the heads take {self.dim}-d embeddings, got shape {list(x.shape)}: were they trained on another "
                "embedder? Retrain with `curation train`."
            )
        return (x - self.mean) / self.scale

    def theme_probabilities(self, x: np.ndarray) -> np.ndarray:
        if self.theme_w is None or self.theme_b is None:
            raise HeadsError("these heads have no theme head (it had no labels)")
        z = self._z(x) @ self.theme_w + self.theme_b
        return (1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))).astype(np.float32)

    def clutter_probabilities(self, x: np.ndarray) -> np.ndarray:
        if self.clutter_w is None or self.clutter_b is None:
            raise HeadsError("these heads have no clutter head (it had no labels)")
        z = (self._z(x) @ self.clutter_w + self.clutter_b).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        out = {"mean": self.mean, "scale": self.scale}
        for name in ("theme_w", "theme_b", "clutter_w", "clutter_b"):
            value = getattr(self, name)
            if value is not None:
                out[name] = np.asarray(value, dtype=np.float32)
        out["themes"] = np.array([t.value for t in THEMES])
        out["categories"] = np.array([c.value for c in CATEGORIES])
        return out

    def digest(self) -> str:
        """SHA-256 over the weights: equal weights, equal digest."""
        h = hashlib.sha256()
        for name, value in sorted(self._arrays().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **self._arrays())
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> HeadsWeights:
        try:
            with np.load(path, allow_pickle=False) as z:
                themes = tuple(str(t) for t in z["themes"])
                categories = tuple(str(c) for c in z["categories"])
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise HeadsError(f"no heads file at {path}; train one with `curation train`") from None
        except (KeyError, ValueError, OSError) as exc:
            raise HeadsError(f"{path} is not a heads file ({exc}); retrain with `curation train`") from None
        if themes != tuple(t.value for t in THEMES) or categories != tuple(c.value for c in CATEGORIES):
            raise HeadsError(f"{path} was trained for other themes or categories; retrain with `curation train`")
        return cls(
            arrays["mean"], arrays["scale"], arrays.get("theme_w"), arrays.get("theme_b"),
            arrays.get("clutter_w"), arrays.get("clutter_b"),
        )  # fmt: skip


def fit_heads(
    data: TrainingData,
    *,
    seed: int = 0,
    l2: float = 1e-2,
    max_iter: int = 500,
    min_labels: int = 2,
) -> HeadsWeights:
    """Fit both heads on ``data``; a head with fewer than ``min_labels`` labelled rows is None.

    Loss: the weighted mean binary cross-entropy over the known theme labels plus the weighted
    mean cross-entropy over the clutter labels, plus ``l2`` times the squared weights;
    minimised jointly by L-BFGS (scipy) from a small seeded random start.
    """
    from scipy.optimize import minimize

    if l2 < 0:
        raise HeadsError(f"l2 must be >= 0, got {l2}")
    if max_iter < 1:
        raise HeadsError(f"max_iter must be >= 1, got {max_iter}")
    n_theme, n_clutter = int(data.has_themes.sum()), int(data.has_clutter.sum())
    fit_theme, fit_clutter = n_theme >= min_labels, n_clutter >= min_labels
    if not (fit_theme or fit_clutter):
        raise HeadsError(
            f"too few labels to train: {n_theme} photos with theme labels and {n_clutter} with clutter labels, "
            f"at least {min_labels} needed for one head"
        )
    used = (data.has_themes & fit_theme) | (data.has_clutter & fit_clutter)
    x_used = data.x[used].astype(np.float64)
    mean = x_used.mean(axis=0)
    scale = x_used.std(axis=0)
    scale = np.where(scale < 1e-6, 1.0, scale)
    z = (data.x.astype(np.float64) - mean) / scale
    d, n_t, n_c = z.shape[1], len(THEMES), len(CATEGORIES)

    # theme rows: known labels only, each weighted by its row's weight
    t_rows = np.flatnonzero(data.has_themes) if fit_theme else np.array([], dtype=int)
    zt = z[t_rows]
    t_mask = (~np.isnan(data.themes[t_rows])) * data.theme_weight[t_rows, None]
    t_y = np.nan_to_num(data.themes[t_rows], nan=0.0)
    t_norm = max(float(t_mask.sum()), 1e-12)
    c_rows = np.flatnonzero(data.has_clutter) if fit_clutter else np.array([], dtype=int)
    zc = z[c_rows]
    c_y = np.eye(n_c)[data.clutter[c_rows]] if fit_clutter else np.zeros((0, n_c))
    c_w = data.clutter_weight[c_rows]
    c_norm = max(float(c_w.sum()), 1e-12)

    sizes = [d * n_t, n_t] if fit_theme else []
    sizes += [d * n_c, n_c] if fit_clutter else []
    rng = np.random.default_rng(seed)
    theta0 = np.concatenate(
        ([rng.normal(0, 0.01, d * n_t), np.zeros(n_t)] if fit_theme else [])
        + ([rng.normal(0, 0.01, d * n_c), np.zeros(n_c)] if fit_clutter else [])
    )

    def unpack(theta: np.ndarray) -> list[np.ndarray]:
        return np.split(theta, np.cumsum(sizes)[:-1])

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        parts = unpack(theta)
        grads: list[np.ndarray] = []
        loss = 0.0
        if fit_theme:
            w, b = parts[0].reshape(d, n_t), parts[1]
            logits = zt @ w + b
            bce = np.maximum(logits, 0) - logits * t_y + np.log1p(np.exp(-np.abs(logits)))
            loss += float((bce * t_mask).sum() / t_norm + l2 * (w**2).sum())
            dz = t_mask * (_sigmoid(logits) - t_y) / t_norm
            grads += [(zt.T @ dz + 2 * l2 * w).ravel(), dz.sum(axis=0)]
            parts = parts[2:]
        if fit_clutter:
            w, b = parts[0].reshape(d, n_c), parts[1]
            logits = zc @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            loss += float(-(c_w * (c_y * log_p).sum(axis=1)).sum() / c_norm + l2 * (w**2).sum())
            dz = c_w[:, None] * (np.exp(log_p) - c_y) / c_norm
            grads += [(zc.T @ dz + 2 * l2 * w).ravel(), dz.sum(axis=0)]
        return loss, np.concatenate(grads)

    result = minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    parts = unpack(result.x)
    theme_w = theme_b = clutter_w = clutter_b = None
    if fit_theme:
        theme_w, theme_b = parts[0].reshape(d, n_t).astype(np.float32), parts[1].astype(np.float32)
        parts = parts[2:]
    if fit_clutter:
        clutter_w, clutter_b = parts[0].reshape(d, n_c).astype(np.float32), parts[1].astype(np.float32)
    return HeadsWeights(mean.astype(np.float32), scale.astype(np.float32), theme_w, theme_b, clutter_w, clutter_b)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
