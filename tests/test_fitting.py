"""The fitting maths on synthetic data whose true direction is known."""

import numpy as np
import pytest

from tlgan_tui.fitting import fit_axis

DIM = 100


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latents, a hidden unit direction, and each latent's projection on it."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, DIM))
    true = rng.standard_normal(DIM)
    true /= np.linalg.norm(true)
    return z, true, z @ true


def noise(n: int, scale: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, n)


@pytest.mark.parametrize(
    "kind, method, make_scores",
    [
        ("continuous", "ols", lambda s, e: 30 + 3.3 * s + e),  # years
        ("score", "ols-tanh", lambda s, e: np.tanh(0.5 * s + 0.3 * e)),  # in (-1, 1)
        ("probability", "logistic", lambda s, e: 1 / (1 + np.exp(-(1.5 * s + 0.5 * e)))),  # P(male)
    ],
)
def test_each_kind_of_score_recovers_the_true_direction(kind, method, make_scores):
    z, true, s = synthetic(4000)
    fit = fit_axis(z, make_scores(s, noise(len(z), 1.0)), kind)
    assert fit.method == method
    assert np.linalg.norm(fit.direction) == pytest.approx(1.0)
    assert fit.direction @ true > 0.99
    assert fit.quality["stability"] > 0.95
    assert (fit.quality.get("r2", 0) > 0.6) and (kind != "probability" or fit.quality["accuracy"] > 0.85)


def test_positive_means_more_of_the_attribute_even_when_it_falls_with_the_latent():
    z, true, s = synthetic(2000)
    fit = fit_axis(z, 50 - 4 * s + noise(len(z), 1.0), "continuous")
    assert fit.direction @ true < -0.99


def test_tanh_glm_is_not_thrown_by_saturated_scores():
    # Scores pinned at +-1 would be infinite after arctanh; they are clipped at tanh(+-3).
    z, true, s = synthetic(4000)
    scores = np.clip(s, -1.0, 1.0)
    assert np.mean(np.abs(scores) == 1.0) > 0.3
    fit = fit_axis(z, scores, "score")
    assert np.all(np.isfinite(fit.direction)) and fit.direction @ true > 0.99


def test_the_interfacegan_svm_option_finds_the_direction_from_the_extremes():
    z, true, s = synthetic(20000)
    fit = fit_axis(z, s + noise(len(z), 0.2), "continuous", method="svm")
    assert fit.method == "svm"
    assert fit.direction @ true > 0.95  # 400 + 400 extreme samples in 100 dimensions
    assert fit.quality["accuracy"] > 0.95


def test_held_out_quality_drops_when_the_attribute_is_mostly_noise():
    z, _, s = synthetic(4000)
    weak = fit_axis(z, s + noise(len(z), 5.0), "continuous")
    strong = fit_axis(z, s + noise(len(z), 0.5), "continuous")
    assert weak.quality["r2"] < 0.1 and strong.quality["r2"] > 0.7
    assert weak.quality["stability"] < strong.quality["stability"]


@pytest.mark.parametrize(
    "scores, kind, message",
    [
        (np.full(500, 0.3), "probability", "every sample has the same score"),
        (np.r_[np.nan, np.zeros(499)], "continuous", "NaN or infinite"),
        (np.linspace(0, 2, 500), "probability", "probabilities must lie in"),
    ],
)
def test_scores_that_cannot_be_fitted_are_refused_with_the_reason(scores, kind, message):
    z, _, _ = synthetic(500)
    with pytest.raises(ValueError, match=message):
        fit_axis(z, scores, kind)
