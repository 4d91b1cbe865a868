# syntax=docker/dockerfile:1
# FaceExplore's Python side: the Flask API under gunicorn (`backend` service) and the indexer
# (`indexer` service), one image. Built from the repository root (docker-compose.yml does that):
#   docker build -f services/backend.Dockerfile -t faceexplore-backend .
# Installs what `make setup` does: requirements.txt, then requirements-nodeps.txt with
# --no-deps (facenet-pytorch's own pins are obsolete), then the backend package; not the optional
# Ray engine (requirements-ray.txt: docs/scaling.md), which the compose services do not use.
FROM python:3.11-slim

# Where pip finds torch/torchvision at the pinned versions, when that is not the default index:
# pass e.g. --build-arg PIP_EXTRA_INDEX_URL=<the CPU-only wheel index> (a much smaller image than
# the default CUDA build) or PIP_FIND_LINKS=<a wheel folder>.
ARG PIP_EXTRA_INDEX_URL=
ARG PIP_FIND_LINKS=
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    PIP_FIND_LINKS=${PIP_FIND_LINKS}

# OpenMP runtime for the numerical libraries
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
RUN pip install -r requirements.txt \
 && pip install --no-deps -r requirements-nodeps.txt
COPY backend/ ./backend/
RUN pip install --no-deps ./backend

# An unprivileged user; /data (a named volume) starts out owned by it. The gallery is mounted
# read-only at /gallery and needs to be readable by uid 1000 (or by everyone).
RUN useradd --create-home --uid 1000 faceexplore \
 && mkdir -p /data /gallery \
 && chown faceexplore:faceexplore /data
USER faceexplore
ENV FACEEXPLORE_DATA_DIR=/data \
    FACEEXPLORE_GALLERY_DIR=/gallery
VOLUME ["/data"]
EXPOSE 8000

# gunicorn on all interfaces inside the container; only nginx is published (docker-compose.yml)
CMD ["faceexplore", "--data", "/data", "serve", "/gallery", "--host", "0.0.0.0", "--port", "8000"]
