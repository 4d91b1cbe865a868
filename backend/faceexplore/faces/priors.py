"""What an embedding model's distances look like in general, measured once on public data
(benchmarks/model_prior.py on LFW; the numbers, the command and the data are in
``model_priors.json``), for the galleries too small to say it themselves.

A gallery of a few dozen faces gives a poor different-people model: few pairs, and many of them
the same person (a wedding's few guests, one photo saved at several resolutions). So:

- **duplicates**: two faces of different photos closer than the model's ``duplicate_distance``
  (measured on resized and recompressed copies of one photo, far below any two photos of one
  person) are one face seen twice; they count once when the thresholds are fitted;
- **clustering**: the different-people Gaussian is the prior's and the gallery's, each weighted
  by the faces behind it: the gallery's fit from n distinct faces gets weight n / (n + n0), the
  prior the rest, where the prior counts as ``PRIOR_FACES`` (n0) faces. A gallery of a few dozen
  faces leans mostly on the prior, one of thousands of faces almost only on itself;
- **search**: where the gallery's pseudo-queries are too few to read the false-alarm rate off
  them, the threshold is never stricter than the prior's: the distance that an absent person's
  best score, against clusters each as wide as a single different-people distance and
  independent (both make the minimum lower, so the floor errs on the strict side), falls below
  with the rate.

Models without a measured prior (other embedders, test models) keep the gallery-only rules.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from scipy import stats

PRIORS_PATH = Path(__file__).with_name("model_priors.json")
# How many of a gallery's own distinct faces the prior is worth. Its numbers come from hundreds of
# thousands of LFW pairs, so its error is not sampling but how far a gallery's people and photos
# differ from LFW's; a gallery's own fit from its central quantiles is noisy below a hundred
# faces or so (and biased where most pairs are one person), reliable well above.
PRIOR_FACES = 100


@dataclass(frozen=True)
class ModelPrior:
    model: str
    mean: float  # different people's distance: Gaussian mean and sd
    std: float
    duplicate_distance: float  # closer than this, two faces of different photos are one face copied
    prior_faces: int = PRIOR_FACES

    def gallery_weight(self, distinct_faces: int) -> float:
        """The weight of a gallery's own different-people fit: n / (n + n0)."""
        return distinct_faces / (distinct_faces + self.prior_faces)

    def search_floor(self, rate: float, clusters: int) -> float:
        """The score an absent person's best (lowest) score over ``clusters`` independent
        clusters falls below with probability ``rate``."""
        per_cluster = 1.0 - (1.0 - rate) ** (1.0 / max(clusters, 1))
        return float(stats.norm.ppf(per_cluster, loc=self.mean, scale=self.std))

    def search_floor_cdf(self, score: float, clusters: int) -> float:
        return float(1.0 - (1.0 - stats.norm.cdf(score, loc=self.mean, scale=self.std)) ** max(clusters, 1))

    def as_dict(self) -> dict:
        return asdict(self)


@cache
def _measured() -> dict:
    return json.loads(PRIORS_PATH.read_text()) if PRIORS_PATH.exists() else {}


def prior_for(model: str | None) -> ModelPrior | None:
    """The measured prior of the embedding model named ``model`` (the index's ``model`` meta),
    or None where none was measured."""
    measured = _measured().get(model or "")
    if not measured:
        return None
    d = measured["different_people"]
    return ModelPrior(model, float(d["mean"]), float(d["std"]), float(measured["duplicate_distance"]))
