"""`faceexplore report` and `cluster --explain`: label-free quality of a clustering."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .impostors import MIN_PAIRS
from .null_model import NullModel


def explain_threshold(details: dict) -> str:
    choice = details.get("threshold_choice")
    if not choice:
        return _explain_tiny_gallery(details)
    m = choice["model"]
    t = choice["threshold"]
    n = details["faces"]
    lines = [
        f"threshold: {t:.4f} (normalised Euclidean distance; "
        f"{'EXPERT OVERRIDE' if details.get('override') else 'derived from this gallery'})",
        "evidence (no labels):",
        f"  {m['pairs']:,} random face pairs and {m['cannot_link_pairs']:,} cannot-link pairs (two faces of one photo: different people)",
        *_explain_model(m, details.get("prior")),
        "  random pairs closer than the threshold in excess of that model: "
        f"{choice['same_person_pairs_share']:.3%} of all pairs (estimated same-person pairs)",
        "rule: the threshold maximises (observed pairs closer) - (different-people pairs expected closer);",
        "      below it there are more close pairs than different people explain, above it none",
        "expected error rates:",
        f"  a pair of two different people falls below the threshold with probability {choice['false_match_rate']:.2e}",
        f"  per face, expected different-people faces within the threshold among {n:,}: {choice['false_match_rate'] * (n - 1):.2f}",
        "  (average linkage needs the *mean* distance between two groups below the threshold, far rarer than one pair)",
    ]
    null = details.get("search_null")
    if null:
        lines.append(
            f"search: an absent person's best score, from {null['samples']:,} pseudo-queries (each face against the other "
            f"clusters): read off their scores down to the {min(1.0, NullModel.from_dict(null).data_rate):.2%} quantile, a Gumbel "
            f"(loc {null['loc']:.4f}, scale {null['scale']:.4f}) fitted to them below; at {null['false_alarm_rate']:.0%} "
            f"false alarms the accept threshold is {null['distance']:.4f}"
        )
        if null.get("prior_floor") is not None:
            used = "USED: the pseudo-queries alone put it lower" if null.get("prior_floor_used") else "not needed"
            lines.append(
                f"  below what the pseudo-queries show, the threshold is never under the model prior's floor "
                f"{null['prior_floor']:.4f} (an absent person against {null['clusters']} clusters, each scoring like one "
                f"different-people pair): {used}"
            )
    return "\n".join(lines)


def _explain_model(m: dict, prior: dict | None) -> list[str]:
    """The different-people model, and how much of it the gallery and the model's prior gave."""
    if not prior:
        return [
            f"  different-people distance model: Gaussian, mean {m['mean']:.4f}, sd {m['std']:.4f}, "
            "fitted to the central quantiles (16%-84%)"
        ]
    w = m.get("gallery_weight", 1.0)
    gallery = (
        f"this gallery's own fit to the central quantiles (16%-84%): mean {m['gallery_mean']:.4f}, sd {m['gallery_std']:.4f}"
        if m.get("gallery_mean") is not None
        else "this gallery has too few distinct faces for a fit of its own"
    )
    return [
        f"  faces left out of the fit as copies of another photo's face (closer than {prior['duplicate_distance']:.3f}): "
        f"{m.get('duplicates_collapsed', 0):,}; they are still clustered",
        f"  different-people distance model: Gaussian, mean {m['mean']:.4f}, sd {m['std']:.4f}, weighted "
        f"{w:.0%} on the gallery, {1 - w:.0%} on the {prior['model']} model's prior",
        f"    {gallery}",
        f"    the prior, measured on LFW (faceexplore/model_priors.json): mean {prior['mean']:.4f}, sd {prior['std']:.4f}",
        f"    rule: the gallery's weight is n / (n + {prior['prior_faces']}) for its n distinct faces "
        f"(the prior counts as {prior['prior_faces']} faces), so it takes over as the gallery grows",
    ]


def _explain_tiny_gallery(details: dict) -> str:
    n = details.get("faces", 0)
    if n == 0:
        return "the index has no faces yet: nothing to cluster (index photos with people in them, then run `faceexplore cluster` again)"
    why = f"{n} face{'s' if n != 1 else ''} give too few pairs to learn from (at least {MIN_PAIRS} pairs: 5 faces)"
    if details.get("override"):
        return f"threshold: {details.get('threshold', 0.0):.4f} (EXPERT OVERRIDE); {why}, so no error rate can be estimated for it"
    return (
        f"{why}: no threshold is learned and every face is its own person. Run `faceexplore cluster` again once "
        f"the gallery has more faces. Search learns from the same few faces, so it finds no one while the gallery "
        f"has fewer than 3, and its false-alarm rate rests on 3 or 4 faces only until it grows."
    )


def doubt(cluster: dict, sizes: dict[int, int]) -> float:
    """How many faces a flagged cluster probably has wrong, to say where to look first: the
    faces of another person in it (``may_be_two_people``: its faces times the estimated share
    of pairs that are two people), or the faces that would move if it joined its nearest
    cluster (``may_be_split``: the smaller of the two)."""
    flags = cluster.get("flags") or []
    wrong = 0.0
    if "may_be_two_people" in flags and cluster.get("purity") is not None:
        wrong = (1.0 - cluster["purity"]) * cluster["faces"]
    if "may_be_split" in flags:
        wrong = max(wrong, float(min(cluster["faces"], sizes.get(cluster.get("nearest_cluster"), cluster["faces"]))))
    return wrong


def cluster_report(index) -> dict:
    """The clustering's label-free quality, its people with their names; ``clusters`` ordered
    for the organiser: the doubted ones first, the most faces probably wrong first
    (``doubt``), then the rest, most faces first."""
    clustering = index.active_clustering()
    if clustering is None:
        raise ValueError("no clustering yet: run `faceexplore cluster` first")
    clusters = [
        {
            "id": c.id,
            "name": c.name,
            "hidden": c.hidden,
            "faces": c.face_count,
            "photos": c.photo_count,
            "cover_face_id": c.cover_face_id,
            **{k: c.quality.get(k) for k in ("cohesion", "nearest_cluster", "nearest_distance", "purity", "flags")},
            "corrected": bool(c.quality.get("corrected")),
        }
        for c in index.active_clusters()
    ]
    by_id = {c["id"]: c["faces"] for c in clusters}
    for c in clusters:
        c["doubt"] = doubt(c, by_id)
    clusters.sort(key=lambda c: (not c["flags"], -c["doubt"], -c["faces"], c["id"]))
    sizes = [c["faces"] for c in clusters]
    return {
        "threshold": clustering["threshold"],
        "method": clustering["method"],
        "details": clustering["details"],
        "summary": {
            "clusters": len(clusters),
            "named": sum(1 for c in clusters if c["name"]),
            "hidden": sum(1 for c in clusters if c["hidden"]),
            "faces": int(sum(sizes)),
            "singletons": int(sum(1 for s in sizes if s == 1)),
            "largest": int(max(sizes, default=0)),
            "may_be_two_people": [c["id"] for c in clusters if "may_be_two_people" in (c["flags"] or [])],
            "may_be_split": [c["id"] for c in clusters if "may_be_split" in (c["flags"] or [])],
            "mean_estimated_purity": float(np.mean([c["purity"] for c in clusters if c["faces"] > 1 and c["purity"] is not None]))
            if any(c["faces"] > 1 and c["purity"] is not None for c in clusters)
            else None,
        },
        "clusters": clusters,
    }


def format_report(report: dict) -> str:
    s = report["summary"]
    out = [
        f"{s['clusters']} people (clusters) from {s['faces']} faces; {s['singletons']} seen once; largest {s['largest']} faces",
        f"threshold {report['threshold']:.4f} ({report['method']})",
        f"estimated purity (mean over clusters of 2+ faces): {s['mean_estimated_purity']:.3f}"
        if s["mean_estimated_purity"] is not None
        else "no cluster has two faces",
        f"probably two people in one cluster: {s['may_be_two_people'] or 'none'}",
        f"probably one person split over clusters: {s['may_be_split'] or 'none'}",
        f"named: {s['named']}; hidden from visitors: {s['hidden']}",
    ]
    header = f"{'id':>6} {'faces':>6} {'photos':>6} {'cohesion':>9} {'nearest':>8} {'dist':>6} {'purity':>7} {'doubt':>6}  name / flags"
    doubted = [c for c in report["clusters"] if c["flags"]]
    rest = [c for c in report["clusters"] if not c["flags"] and (c["faces"] > 1 or c["name"])]
    if doubted:
        out += ["", "look at these first (most faces probably wrong first; `faceexplore people` corrects them):", header]
        out += [_cluster_line(c) for c in doubted]
    if rest:
        out += ["", "the others (seen more than once, or named):", header]
        out += [_cluster_line(c) for c in rest]
    return "\n".join(out)


def _cluster_line(c: dict) -> str:
    nd = f"{c['nearest_distance']:.3f}" if c["nearest_distance"] is not None else "-"
    cohesion = f"{c['cohesion']:.3f}" if c["cohesion"] is not None else "-"
    label = (c["name"] or "-") + (" (hidden)" if c["hidden"] else "") + (" (corrected)" if c["corrected"] else "")
    flags = f"  [{','.join(c['flags'])}]" if c["flags"] else ""
    return (
        f"{c['id']:>6} {c['faces']:>6} {c['photos']:>6} {cohesion:>9} "
        f"{str(c['nearest_cluster']):>8} {nd:>6} {_purity(c['purity']):>7} {c['doubt']:>6.1f}  {label}{flags}"
    )


def _purity(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def save_plots(report: dict, folder, index=None) -> list[str]:
    """Distance distributions with the threshold, and cluster sizes, as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    choice = report["details"].get("threshold_choice")
    if choice:
        m = choice["model"]
        xs = np.linspace(0, max(1.2, m["mean"] + 4 * m["std"]), 400)
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(xs, stats.norm.pdf(xs, m["mean"], m["std"]), label="different people (fitted model)")
        ax.axvline(report["threshold"], color="k", ls="--", label=f"clustering threshold {report['threshold']:.3f}")
        null = report["details"].get("search_null")
        if null:
            ax.plot(xs, stats.gumbel_l.pdf(xs, null["loc"], null["scale"]), label="absent person's best score (null)")
            ax.axvline(null["distance"], color="r", ls=":", label=f"search accept threshold {null['distance']:.3f}")
        if report["details"].get("random_distances_sample"):
            ax.hist(report["details"]["random_distances_sample"], bins=100, density=True, alpha=0.3, label="random pairs")
        ax.set_xlabel("distance between normalised face embeddings")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = folder / "distances.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(str(path))
    sizes = [c["faces"] for c in report["clusters"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(sizes, bins=range(1, max(sizes, default=1) + 2), log=True)
    ax.set_xlabel("faces in a cluster")
    ax.set_ylabel("clusters")
    fig.tight_layout()
    path = folder / "cluster_sizes.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(str(path))
    return written
