"""Visitors of a FaceExplore site, for locust (run by benchmarks/load_test.py, or by hand):

    SAMPLES_DIR=/path/to/sample/photos ACCESS_CODE=... locust -f backend/benchmarks/locustfile.py --host http://127.0.0.1:8765

A visitor opens the page, searches with one sample photo (taken at random from SAMPLES_DIR),
looks at the result thumbnails, sometimes opens a photo or a person, and now and then downloads
the photos found as a zip; then thinks for a moment and searches again. Any answer but the
expected one counts as a failure (a 429 too: the load test raises nginx's rate limits).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import HttpUser, between, task

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
SAMPLES = sorted(p for p in Path(os.environ.get("SAMPLES_DIR", ".")).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
THUMBNAILS_LOOKED_AT = 6
ACCESS_CODE = os.environ.get("ACCESS_CODE", "")  # the event's access code, when the site asks for one


class Visitor(HttpUser):
    wait_time = between(1, 3)  # reading the results before the next action

    def on_start(self):
        if not SAMPLES:
            raise RuntimeError("SAMPLES_DIR holds no sample photos")
        self.client.get("/", name="/ (page)")
        self.client.get("/api/status", name="/api/status")
        if ACCESS_CODE:  # the event's code, as the poster's link gives it: a grant for this visitor
            self.client.post("/api/access", json={"code": ACCESS_CODE}, name="/api/access")

    @task(6)
    def search(self):
        sample = random.choice(SAMPLES)
        with self.client.post(
            "/api/search",
            files={"images": (sample.name, sample.read_bytes(), "image/png" if sample.suffix == ".png" else "image/jpeg")},
            name="/api/search",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            result = r.json()
            r.success()
        photos = result.get("photos") or []
        for photo in photos[:THUMBNAILS_LOOKED_AT]:
            self.client.get(photo["thumbnail_url"], name="/cache/thumbnails/[size]/[id].jpg")
        if photos and random.random() < 0.3:
            photo = random.choice(photos)
            self.client.get(photo["url"], name="/gallery/[photo]")
            self.client.get(f"/api/photos/{photo['id']}", name="/api/photos/[id]")
        if photos and random.random() < 0.1:
            with self.client.post(
                "/api/download",
                json={"photo_ids": [p["id"] for p in photos[:20]], "token": result.get("download_token")},
                name="/api/download",
                catch_response=True,
            ) as d:
                if d.status_code != 200 or not d.content.startswith(b"PK"):
                    d.failure(f"{d.status_code}: not a zip")
                else:
                    d.success()

    @task(1)
    def people(self):
        r = self.client.get("/api/people", name="/api/people")
        if r.status_code == 200:
            people = r.json().get("people") or []
            if people:
                self.client.get(f"/api/people/{random.choice(people)['id']}", name="/api/people/[id]")
