# syntax=docker/dockerfile:1
# The `nginx` service's image: the frontend built into frontend/dist, served by nginx with
# services/nginx.conf rendered for the containers (gallery at /gallery, data at /data, gunicorn
# at backend:8000, listening on 8765). Built from the repository root:
#   docker build -f services/frontend.Dockerfile -t faceexplore-nginx .

# 1. the frontend (npm ci && npm run build -> dist/)
FROM node:22-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# 2. the nginx configuration, rendered from the same template `make run` uses
FROM python:3.11-slim AS conf
COPY services/nginx.conf services/render_nginx_conf.py /services/
RUN python3 /services/render_nginx_conf.py \
      --gallery /gallery --data /data --frontend /usr/share/nginx/html \
      --host 0.0.0.0 --port 8765 --upstream backend:8000 \
      --state-dir /var/cache/nginx --pid-file /var/run/nginx.pid \
      --access-log /dev/stdout --error-log /dev/stderr --user nginx \
      --out /nginx.conf

# 3. nginx with both (the image's default command runs `nginx -g "daemon off;"`)
FROM nginx:1.27-alpine
COPY --from=conf /nginx.conf /etc/nginx/nginx.conf
COPY --from=frontend /src/frontend/dist/ /usr/share/nginx/html/
RUN for d in client_body proxy fastcgi uwsgi scgi; do mkdir -p /var/cache/nginx/tmp/$d; done \
 && chown -R nginx /var/cache/nginx/tmp
# (no `nginx -t` here: it would resolve the upstream `backend`, which exists only in the compose network)
EXPOSE 8765
