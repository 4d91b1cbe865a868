"""How strangers score against the gallery's people: the *null distribution* of a person absent
from the gallery, computed when clustering (clustering.py keeps it with the clustering) and read
by the search (search/searcher.py) for its accept threshold and by the report.

Every indexed face, used as a pseudo-query against every cluster but its own, is a person the
rest of the gallery does not contain; the lowest score each of them gets is what an absent
visitor would get. A small gallery's few pseudo-queries cannot show a 1% rate; there the
embedding model's prior (faces/priors.py) sets a floor under the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

NULL_SAMPLE = 4000  # pseudo-queries used to estimate the null distribution
NULL_MIN_TAIL = 10  # pseudo-queries that must score below a quantile for it to be read off the data
NULL_QUANTILES = (0.25, 0.75)  # the quartiles a small gallery's Gumbel is fitted to
NULL_KEPT_SHARE = 0.25  # the lower share of the pseudo-queries' scores kept with the model
NULL_BLOCK_VALUES = 2**25  # distances held at once by fit_null (256 MB of float64)


@dataclass
class NullModel:
    """An absent person's best cluster score.

    Where the pseudo-queries show it (at least ``NULL_MIN_TAIL`` of them below), the law is their
    empirical distribution; for rarer events a Gumbel (minimum) law fitted to the data takes over,
    matched to the empirical one where they meet. (A Gumbel fitted to the quartiles alone put the
    1% threshold far too low: `evaluate event` on a 3,000-photo gallery gave 0.5% false alarms
    and F1 0.41.)

    Where the pseudo-queries are too few to show a rate and the embedding model has a prior
    (``prior_mean``, ``prior_std``: its different-people distance), the Gumbel is not trusted
    to be stricter than the prior: the threshold is at least the prior's floor for ``clusters``
    clusters (``priors.ModelPrior.search_floor``). Without it, a gallery of a dozen faces can
    put the Gumbel's 1% point below any distance a face reaches, so that no one, not even a photo
    of the gallery, is found (tests/test_small_gallery.py; docs/quality.md, "Small galleries").
    """

    loc: float
    scale: float
    samples: int
    tail: list = field(default_factory=list)  # the lowest scores, sorted
    prior_mean: float | None = None
    prior_std: float | None = None
    clusters: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> NullModel:
        return cls(d["loc"], d["scale"], d["samples"], d.get("tail") or [], d.get("prior_mean"), d.get("prior_std"), d.get("clusters") or 0)

    def _prior(self):
        from ..faces.priors import ModelPrior

        if self.prior_mean is None or self.prior_std is None:
            return None
        return ModelPrior("", self.prior_mean, self.prior_std, 0.0)

    def prior_floor(self, rate: float) -> float | None:
        """The prior's floor under the threshold at ``rate`` (None without a prior)."""
        prior = self._prior()
        return prior.search_floor(rate, self.clusters) if prior else None

    @property
    def data_rate(self) -> float:
        """The smallest rate the empirical distribution answers for."""
        return NULL_MIN_TAIL / self.samples if self.samples else 1.0

    def cdf(self, score):
        shown = len(self.tail) >= NULL_MIN_TAIL
        if shown and self.tail[NULL_MIN_TAIL - 1] <= score <= self.tail[-1]:
            return float(np.searchsorted(self.tail, score, side="right") / self.samples)
        gumbel = float(stats.gumbel_l.cdf(score, loc=self.loc, scale=self.scale))
        prior = self._prior()
        if prior is not None and (not shown or score < self.tail[NULL_MIN_TAIL - 1]):
            # below what the data show: the lower of the two laws (the higher of the thresholds)
            return min(gumbel, prior.search_floor_cdf(score, self.clusters))
        return gumbel

    def distance_at(self, rate: float) -> float:
        k = math.ceil(rate * self.samples) - 1  # the order statistic with at most ``rate`` below it
        if self.data_rate <= rate and 0 <= k < len(self.tail):
            return float(self.tail[k])
        gumbel = float(stats.gumbel_l.ppf(rate, loc=self.loc, scale=self.scale))
        floor = self.prior_floor(rate)
        return gumbel if floor is None else max(gumbel, floor)

    def as_dict(self):
        out = {"loc": self.loc, "scale": self.scale, "samples": self.samples, "tail": self.tail}
        if self.prior_mean is not None:
            out |= {"prior_mean": self.prior_mean, "prior_std": self.prior_std, "clusters": self.clusters}
        return out


def cluster_scores(D: np.ndarray, inverse: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean distance from each row's query to each cluster: (queries, clusters)."""
    out = np.empty((D.shape[0], len(sizes)))
    for r in range(D.shape[0]):
        out[r] = np.bincount(inverse, weights=D[r], minlength=len(sizes)) / sizes
    return out


def fit_null(X: np.ndarray, labels: np.ndarray, rng=None, prior=None, queries=None) -> NullModel | None:
    """Each (sampled) face's best score against the clusters other than its own. ``queries``:
    the faces that may be pseudo-queries (copies of one face count once; all by default).
    ``prior``: the embedding model's ``priors.ModelPrior``, kept with the model for its floor."""
    rng = rng or np.random.default_rng(0)
    uniq, inverse = np.unique(labels, return_inverse=True)
    if len(uniq) < 3:
        return None
    sizes = np.bincount(inverse).astype(np.float64)
    queries = np.arange(len(X)) if queries is None else np.asarray(queries)
    pick = queries if len(queries) <= NULL_SAMPLE else rng.choice(queries, NULL_SAMPLE, replace=False)
    best = np.empty(len(pick))
    # pseudo-queries a block: each block's distance matrix stays within NULL_BLOCK_VALUES
    block = max(1, min(256, NULL_BLOCK_VALUES // max(len(X), 1)))
    for start in range(0, len(pick), block):
        rows = pick[start : start + block]
        D = np.sqrt(np.maximum(2 - 2 * X[rows] @ X.T, 0))
        scores = cluster_scores(D, inverse, sizes)
        scores[np.arange(len(rows)), inverse[rows]] = np.inf
        best[start : start + len(rows)] = scores.min(1)
    best = np.sort(best)
    n = len(best)
    # Gumbel for minima, fitted where the data are solid: from the lowest quantile the data show
    # (NULL_MIN_TAIL scores below it) to the third quartile; a small gallery gets the quartiles.
    # Robust to the few pseudo-queries whose person has a second cluster (their best "other"
    # score is a same-person score, far in the lower tail).
    p_lo = min(NULL_QUANTILES[0], NULL_MIN_TAIL / n)
    q_lo, q_hi = np.quantile(best, (p_lo, NULL_QUANTILES[1]))
    z_lo, z_hi = stats.gumbel_l.ppf((p_lo, NULL_QUANTILES[1]))
    scale = max((q_hi - q_lo) / (z_hi - z_lo), 1e-6)
    loc = q_lo - z_lo * scale
    kept = best[: math.ceil(NULL_KEPT_SHARE * n)] if n >= NULL_MIN_TAIL else best[:0]
    tail = [round(float(v), 6) for v in kept]
    if prior is None:
        return NullModel(float(loc), float(scale), int(n), tail)
    return NullModel(float(loc), float(scale), int(n), tail, prior.mean, prior.std, int(len(uniq)))


def search_threshold_from_gallery(X, labels, choice=None, false_alarm_rate: float = 0.01, prior=None, queries=None) -> dict | None:
    null = fit_null(X, labels, prior=prior, queries=queries)
    if null is None:
        return None
    distance = null.distance_at(false_alarm_rate)
    floor = null.prior_floor(false_alarm_rate)
    return {
        **null.as_dict(),
        "false_alarm_rate": false_alarm_rate,
        "distance": distance,
        "prior_floor": floor,
        "prior_floor_used": floor is not None and distance == floor,
    }
