"""Fitting a feature axis: a unit direction in latent space along which an attribute grows.

Each attribute is fitted with the model that suits its kind of score, and the direction is
the model's coefficient vector over z, normalised (TL-GAN): positive = more of the attribute.
- score in (-1, 1): TL-GAN's GLM, y' = arctanh(clip(y, tanh(-3), tanh(3))), then OLS;
- probability: logistic regression on the probability itself (a binomial GLM; each sample
  counts as "yes" with weight p and "no" with weight 1 - p);
- continuous (years, distances): OLS;
- `svm` (any kind): InterFaceGAN's linear SVM separating the top from the bottom 2 %.
Quality is measured on data the fit did not see (held-out R² or accuracy), and stability as
the cosine between the directions fitted on two disjoint halves of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tlgan_tui.labelers.base import Kind

METHODS = ("auto", "svm")
METHOD_FOR_KIND: dict[str, str] = {"score": "ols-tanh", "probability": "logistic", "continuous": "ols"}
TANH_CLIP = np.tanh(3.0)
SVM_SHARE = 0.02
HELD_OUT = 0.2


@dataclass(frozen=True)
class AxisFit:
    direction: np.ndarray
    """Unit vector (latent_dim,): positive = more of the attribute."""
    method: str
    quality: dict[str, float]


def fit_axis(z: np.ndarray, y: np.ndarray, kind: Kind, method: str = "auto", seed: int = 0) -> AxisFit:
    """The axis of attribute scores y (N,) over latents z (N, d), with its quality."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if z.ndim != 2 or y.shape != (len(z),):
        raise ValueError(f"expected z (N, d) and y (N,), got {z.shape} and {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("the attribute scores hold NaN or infinite values")
    if method not in METHODS:
        raise ValueError(f"unknown fit method {method!r}; choose one of {', '.join(METHODS)}")
    name = METHOD_FOR_KIND[kind] if method == "auto" else method
    if kind == "probability" and not np.all((y >= 0) & (y <= 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    if np.ptp(y) == 0:
        raise ValueError("every sample has the same score, so no direction makes it change")

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(z))
    test, train = np.split(order, [round(HELD_OUT * len(z))])
    halves = np.array_split(rng.permutation(len(z)), 2)

    model = _FITTERS[name]
    quality = model.held_out(z[train], y[train], z[test], y[test])
    first, second = (_unit(model.coefficients(z[half], y[half])) for half in halves)
    quality["stability"] = float(first @ second)
    return AxisFit(_unit(model.coefficients(z, y)), name, {key: round(value, 4) for key, value in quality.items()})


def _unit(coefficients: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(coefficients)
    if norm == 0:
        raise ValueError("the fit found no direction (all coefficients are zero)")
    return coefficients / norm


def _r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    residual = np.sum((truth - predicted) ** 2)
    total = np.sum((truth - truth.mean()) ** 2)
    return float(1 - residual / total) if total > 0 else 0.0


def _least_squares(z: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    mean_z, mean_t = z.mean(axis=0), target.mean()
    coefficients, *_ = np.linalg.lstsq(z - mean_z, target - mean_t, rcond=None)
    return coefficients, float(mean_t - mean_z @ coefficients)


class _OLS:
    @staticmethod
    def target(y: np.ndarray) -> np.ndarray:
        return y

    @classmethod
    def coefficients(cls, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _least_squares(z, cls.target(y))[0]

    @classmethod
    def held_out(cls, z: np.ndarray, y: np.ndarray, z_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
        coefficients, intercept = _least_squares(z, cls.target(y))
        return {"r2": _r2(cls.target(y_test), z_test @ coefficients + intercept)}


class _TanhOLS(_OLS):
    @staticmethod
    def target(y: np.ndarray) -> np.ndarray:
        return np.arctanh(np.clip(y, -TANH_CLIP, TANH_CLIP))


class _Logistic:
    @staticmethod
    def _model(z: np.ndarray, p: np.ndarray):
        from sklearn.linear_model import LogisticRegression

        # Each sample twice: as "yes" with weight p and as "no" with weight 1 - p.
        features = np.concatenate([z, z])
        labels = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
        weights = np.concatenate([p, 1 - p])
        return LogisticRegression(C=1.0, max_iter=1000).fit(features, labels, sample_weight=weights)

    @classmethod
    def coefficients(cls, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        return cls._model(z, p).coef_[0]

    @classmethod
    def held_out(cls, z: np.ndarray, p: np.ndarray, z_test: np.ndarray, p_test: np.ndarray) -> dict[str, float]:
        predicted = cls._model(z, p).predict_proba(z_test)[:, 1]
        return {"accuracy": float(np.mean((predicted > 0.5) == (p_test > 0.5))), "r2": _r2(p_test, predicted)}


class _SVM:
    """Top against bottom SVM_SHARE of the samples by score, linear SVM (InterFaceGAN)."""

    @staticmethod
    def _extremes(z: np.ndarray, y: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        keep = (y <= low) | (y >= high)
        return z[keep], (y[keep] >= high).astype(int)

    @staticmethod
    def _thresholds(y: np.ndarray) -> tuple[float, float]:
        low, high = np.quantile(y, [SVM_SHARE, 1 - SVM_SHARE])
        if low == high:
            raise ValueError("the top and bottom 2 % of the scores are equal; the SVM has nothing to separate")
        return float(low), float(high)

    @classmethod
    def _model(cls, z: np.ndarray, y: np.ndarray):
        from sklearn.svm import LinearSVC

        features, labels = cls._extremes(z, y, *cls._thresholds(y))
        return LinearSVC(C=1.0, max_iter=10000).fit(features, labels)

    @classmethod
    def coefficients(cls, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return cls._model(z, y).coef_[0]

    @classmethod
    def held_out(cls, z: np.ndarray, y: np.ndarray, z_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
        features, labels = cls._extremes(z_test, y_test, *cls._thresholds(y))
        if len(labels) == 0:
            return {}
        return {"accuracy": float(np.mean(cls._model(z, y).predict(features) == labels))}


_FITTERS = {"ols": _OLS, "ols-tanh": _TanhOLS, "logistic": _Logistic, "svm": _SVM}
