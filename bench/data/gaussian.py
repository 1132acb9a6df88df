"""The exact conditional distribution of a multivariate Gaussian (XAIBENCH.md, "Conditional
sampler"): with kept set S and removed set U,
    mu_U|S = mu_U + Sigma_US Sigma_SS^+ (x_S - mu_S),  Sigma_U|S = Sigma_UU - Sigma_US Sigma_SS^+ Sigma_SU.
"Removing" features means sampling x_U from that conditional, or taking its mean for an
expectation. Masks are handled in groups: every row that keeps the same set shares one
regression matrix and one Cholesky factor, so thousands of masked rows cost a handful of
small linear solves (at most 2^d distinct sets).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True, eq=False)
class Gaussian:
    mean: np.ndarray  # (d,)
    cov: np.ndarray  # (d, d)

    def __post_init__(self) -> None:
        mean, cov = np.asarray(self.mean, dtype=np.float64), np.asarray(self.cov, dtype=np.float64)
        if mean.ndim != 1 or cov.shape != (len(mean), len(mean)):
            raise ValueError(f"a Gaussian needs a (d,) mean and a (d, d) covariance, got {mean.shape} and {cov.shape}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(self.mean, self.cov, size=n)

    def conditional_mean(self, x: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """(..., d) rows with the removed features (keep False) at their conditional mean given
        the kept ones. `keep` is boolean, (d,) or shaped like `x`."""
        x, keep = _broadcast(x, keep)
        flat = x.reshape(-1, self.n_features)
        out = flat.copy()
        for pattern, rows in _groups(keep):
            regression, _ = self._factors(pattern)
            out[np.ix_(rows, ~pattern)] = self.mean[~pattern] + (flat[np.ix_(rows, pattern)] - self.mean[pattern]) @ regression.T
        return out.reshape(x.shape)

    def sample_conditional(self, x: np.ndarray, keep: np.ndarray, n_samples: int,
                           rng: np.random.Generator) -> np.ndarray:
        """(..., n_samples, d): for each row, `n_samples` draws of the removed features from their
        conditional given the kept ones; kept features stay as they are."""
        x, keep = _broadcast(x, keep)
        mean = self.conditional_mean(x, keep)
        out = np.repeat(mean[..., None, :], n_samples, axis=-2)
        flat = out.reshape(-1, n_samples, self.n_features)
        for pattern, rows in _groups(keep):
            _, factor = self._factors(pattern)
            removed = np.flatnonzero(~pattern)
            if not len(removed):
                continue
            noise = rng.standard_normal((len(rows), n_samples, len(removed))) @ factor.T
            flat[rows[:, None, None], np.arange(n_samples)[None, :, None], removed[None, None, :]] += noise
        return out

    def _factors(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _conditional_factors(self, keep.tobytes())


@lru_cache(maxsize=4096)
def _conditional_factors(gaussian: Gaussian, keep_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Sigma_US Sigma_SS^+ and a square root of Sigma_U|S for one kept set (cached: a metric asks
    for the same few sets over and over)."""
    keep = np.frombuffer(keep_bytes, dtype=bool)
    kept, removed = np.flatnonzero(keep), np.flatnonzero(~keep)
    cov = gaussian.cov
    regression = cov[np.ix_(removed, kept)] @ np.linalg.pinv(cov[np.ix_(kept, kept)]) if len(kept) \
        else np.zeros((len(removed), 0))
    conditional = cov[np.ix_(removed, removed)] - regression @ cov[np.ix_(kept, removed)]
    # An eigen-decomposition rather than Cholesky: with rho = .99 the conditional covariance is
    # nearly singular, and tiny negative eigenvalues from rounding are clipped to 0.
    values, vectors = np.linalg.eigh((conditional + conditional.T) / 2)
    return regression, vectors * np.sqrt(np.clip(values, 0.0, None))


def _broadcast(x: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    keep = np.broadcast_to(np.asarray(keep, dtype=bool), x.shape)
    return x, keep


def _groups(keep: np.ndarray):
    """(pattern, flat row indices) for each distinct kept set of the (..., d) mask."""
    flat = keep.reshape(-1, keep.shape[-1])
    patterns, inverse = np.unique(flat, axis=0, return_inverse=True)
    order = np.argsort(inverse.ravel(), kind="stable")
    bounds = np.cumsum(np.bincount(inverse.ravel(), minlength=len(patterns)))[:-1]
    for pattern, rows in zip(patterns, np.split(order, bounds)):
        yield pattern, rows
