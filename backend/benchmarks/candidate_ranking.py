"""Where the visitors a search does not find stand among the candidates ("Is one of these you?").

    python backend/benchmarks/candidate_ranking.py EVENT_FOLDER DATA_FOLDER

EVENT_FOLDER is a gallery from make_event_gallery.py, already indexed and clustered into
DATA_FOLDER (e.g. by `faceexplore evaluate event EVENT_FOLDER --scratch DATA_FOLDER`). For each
present query not found at the 1 % setting: the rank of the person's own cluster (one whose
photos are mostly theirs) under four scores, the mean distance the search uses and three
nearest-face alternatives, and how many have no own cluster at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from faceexplore.evaluation import event_photos_by_person
from faceexplore.search.service import SearchInputError, SearchService
from faceexplore.settings import Settings

NONE = 10**6  # the rank of a person with no cluster of their own


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("data", type=Path)
    a = ap.parse_args()
    service = SearchService(Settings(data_dir=a.data, gallery_dir=a.folder / "gallery", frontend_dir=""))
    truth = json.loads((a.folder / "truth.json").read_text())
    photos_of = event_photos_by_person(truth)
    st = service.searcher.refresh()
    paths = {pid: info.path for pid, info in service.index.photo_infos(np.unique(st.photo_ids).tolist()).items()}
    cluster_paths = [{paths[int(p)] for p in st.photo_ids[st.inverse == c]} for c in range(len(st.sizes))]
    threshold = st.null.distance_at(0.01)
    ranks: dict[str, list[int]] = {"mean distance (used)": [], "mean of 3 nearest": [], "better of the two": [], "nearest face": []}
    for rel, person in sorted(truth["present"].items()):
        try:
            _, chosen = service.analyse_samples([(rel, (a.folder / rel).read_bytes(), None)])
        except SearchInputError:
            continue
        if not chosen:
            continue
        d = np.sqrt(np.maximum(2 - 2 * st.X @ np.asarray(chosen[0], np.float64), 0))
        mean = np.bincount(st.inverse, weights=d, minlength=len(st.sizes)) / st.sizes
        if mean.min() < threshold:
            continue  # found
        nearest3, nearest1 = np.empty(len(st.sizes)), np.empty(len(st.sizes))
        for c in range(len(st.sizes)):
            dd = np.sort(d[st.inverse == c])
            nearest3[c], nearest1[c] = dd[:3].mean(), dd[0]
        own = [c for c, shown in enumerate(cluster_paths) if len(shown & photos_of.get(person, set())) > len(shown) / 2]
        for name, score in zip(ranks, (mean, nearest3, np.minimum(mean, nearest3), nearest1)):
            rank = np.argsort(np.argsort(score))
            ranks[name].append(int(rank[own].min()) if own else NONE)
    print(f"present queries not found at 1 %: {len(ranks['mean distance (used)'])}")
    for name, values in ranks.items():
        v = np.array(values)
        print(f"{name}: own cluster first {np.sum(v == 0)}, in the top 3 {np.sum(v < 3)}, no own cluster {np.sum(v == NONE)}")


if __name__ == "__main__":
    main()
