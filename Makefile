# FaceExplore: `make run` indexes a gallery and serves the site; `make test` runs every test.
# Both set up what they need themselves (virtual environment, dependencies, frontend build).
#
#   make run [GALLERY=DIR] [DATA=DIR] [PORT=8765] [HOST=localhost]
#   make test                      # FACEEXPLORE_TEST_DATA=../shared/datasets adds the data tests
#   make frontend                  # (re)build frontend/dist when its sources changed

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GALLERY ?= image-serve-path/gallery-image
DATA ?= image-serve-path/faceexplore-data
PORT ?= 8765
HOST ?= localhost
# gunicorn's port on 127.0.0.1 behind nginx
BACKEND_PORT ?= 8000

FRONTEND_SRC := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json frontend/package-lock.json
# npm ci only when node_modules is missing or older than the lock file
NPM_CI := { [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; } \
	|| npm ci --no-audit --no-fund --loglevel=error

.PHONY: setup frontend test test-backend test-frontend lint-backend format run check-gallery docker-config clean

setup: $(VENV)/.installed

# requirements-ray.txt is optional for running FaceExplore (the Ray engine), installed here so
# that the tests run that engine too.
$(VENV)/.installed: requirements.txt requirements-ray.txt requirements-nodeps.txt backend/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-ray.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --no-deps -e backend
	touch $@

frontend: frontend/dist/index.html

frontend/dist/index.html: $(FRONTEND_SRC)
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ -f $@ ]; then echo "npm not found: using the existing frontend/dist (it may be out of date)" >&2; exit 0; \
	  else echo "npm not found: install Node.js 20.19+ to build the frontend (frontend/dist)" >&2; exit 2; fi; \
	fi; \
	cd frontend && $(NPM_CI) && npm run build

# Both suites run even when the first fails; the exit status says whether either failed.
# The browser end-to-end test (in backend/tests/test_deployment.py) needs the built frontend,
# so the frontend is built before the backend tests run.
test:
	@status=0; \
	$(MAKE) --no-print-directory test-frontend || status=1; \
	$(MAKE) --no-print-directory test-backend || status=1; \
	if [ $$status != 0 ]; then echo "make test: FAILED (see above)" >&2; fi; \
	exit $$status

# Lint (ESLint), type checks (the app; the e2e mock's answers against the API types) and the unit
# tests (which include the check that src/types/openapi.gen.ts matches openapi.json); all three
# run even when one fails.
test-frontend:
	cd frontend && $(NPM_CI) && { status=0; \
	  npm run --silent lint || status=1; \
	  npm run --silent typecheck || status=1; \
	  npm test || status=1; \
	  exit $$status; }

test-backend: setup frontend lint-backend
	cd backend && ../$(BIN)/python -m pytest -ra

# ruff's linter and formatter, and the import contracts (backend/pyproject.toml); `make format`
# applies the formatter
lint-backend: setup
	$(BIN)/ruff check backend services
	$(BIN)/ruff format --check backend services
	cd backend && ../$(BIN)/lint-imports --no-cache

format: setup
	$(BIN)/ruff format backend services

check-gallery:
	@test -d "$(GALLERY)" || { \
	  echo "make run: the gallery folder '$(GALLERY)' does not exist." >&2; \
	  echo "  Put the photos there, or point at them: make run GALLERY=/path/to/photos [PORT=$(PORT)]" >&2; \
	  exit 2; }

run: check-gallery setup frontend
	$(BIN)/faceexplore --data "$(DATA)" index "$(GALLERY)"
	$(BIN)/faceexplore --data "$(DATA)" cluster
	$(BIN)/python services/run_local.py --gallery "$(GALLERY)" --data "$(DATA)" \
	  --host "$(HOST)" --port $(PORT) --backend-port $(BACKEND_PORT)

# Check docker-compose.yml (needs the docker CLI with the compose plugin).
docker-config:
	docker compose config -q

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
