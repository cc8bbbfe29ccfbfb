"""Fitting a feature axis: a unit direction in latent space along which an attribute grows.

Each attribute is fitted with the model that suits its kind of score, and the direction is
the model's coefficient vector over z, normalised (TL-GAN): positive = more of the attribute.
- score in (-1, 1): TL-GAN's GLM, y' = arctanh(clip(y, tanh(-3), tanh(3))), then OLS
  (scikit-learn's TransformedTargetRegressor around LinearRegression);
- probability: LogisticRegression on the probability itself (a binomial GLM; each sample
  counts as "yes" with weight p and "no" with weight 1 - p);
- continuous (years, distances): OLS (LinearRegression);
- `svm` (any kind): InterFaceGAN's linear SVM (LinearSVC) separating the top from the bottom 2 %.
Quality is measured on data the fit did not see (held-out R² or accuracy), and stability as
the cosine between the directions fitted on two disjoint halves of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import r2_score
from sklearn.svm import LinearSVC

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

    quality = _held_out(name, _fitted(name, z[train], y[train]), y[train], z[test], y[test])
    first, second = (_unit(_direction(_fitted(name, z[half], y[half]))) for half in halves)
    quality["stability"] = float(first @ second)
    return AxisFit(_unit(_direction(_fitted(name, z, y))), name, {key: round(value, 4) for key, value in quality.items()})


def _unit(coefficients: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(coefficients)
    if norm == 0:
        raise ValueError("the fit found no direction (all coefficients are zero)")
    return coefficients / norm


def _tanh_target(y: np.ndarray) -> np.ndarray:
    """TL-GAN's link: arctanh of the score, clipped at tanh(+-3) so that saturated scores stay finite."""
    return np.arctanh(np.clip(y, -TANH_CLIP, TANH_CLIP))


def _estimator(method: str) -> BaseEstimator:
    if method == "ols":
        return LinearRegression()
    if method == "ols-tanh":
        # The clip makes arctanh and tanh deliberately not inverse for saturated scores, so
        # scikit-learn's round-trip check would only warn about what is intended.
        return TransformedTargetRegressor(LinearRegression(), func=_tanh_target, inverse_func=np.tanh, check_inverse=False)
    if method == "logistic":
        return LogisticRegression(C=1.0, max_iter=1000)
    return LinearSVC(C=1.0, max_iter=10000)


def _fitted(method: str, z: np.ndarray, y: np.ndarray) -> BaseEstimator:
    model = _estimator(method)
    if method == "logistic":
        # A probability as a binomial GLM: each sample twice, as "yes" with weight p and as
        # "no" with weight 1 - p.
        labels = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
        return model.fit(np.concatenate([z, z]), labels, sample_weight=np.concatenate([y, 1 - y]))
    if method == "svm":
        return model.fit(*_extremes(z, y, *_thresholds(y)))
    return model.fit(z, y)


def _direction(model: BaseEstimator) -> np.ndarray:
    linear = model.regressor_ if isinstance(model, TransformedTargetRegressor) else model
    return np.ravel(linear.coef_)


def _held_out(method: str, model: BaseEstimator, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    if method == "logistic":
        predicted = model.predict_proba(z_test)[:, 1]
        return {"accuracy": float(np.mean((predicted > 0.5) == (y_test > 0.5))), "r2": float(r2_score(y_test, predicted))}
    if method == "svm":
        # The extremes of the held-out faces, by the training faces' thresholds.
        features, labels = _extremes(z_test, y_test, *_thresholds(y_train))
        return {"accuracy": float(model.score(features, labels))} if len(labels) else {}
    if method == "ols-tanh":
        # R² where the model is linear: on arctanh of the scores.
        return {"r2": float(r2_score(_tanh_target(y_test), model.regressor_.predict(z_test)))}
    return {"r2": float(r2_score(y_test, model.predict(z_test)))}


def _extremes(z: np.ndarray, y: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """InterFaceGAN's training set: the faces at or below `low` (0) and at or above `high` (1)."""
    keep = (y <= low) | (y >= high)
    return z[keep], (y[keep] >= high).astype(int)


def _thresholds(y: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(y, [SVM_SHARE, 1 - SVM_SHARE])
    if low == high:
        raise ValueError("the top and bottom 2 % of the scores are equal; the SVM has nothing to separate")
    return float(low), float(high)
