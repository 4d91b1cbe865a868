# FaceExplore: `make run` indexes a gallery and serves the site; `make test` runs every test.
# Both set up what they need themselves (virtual environment, dependencies, frontend build).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GALLERY ?= image-serve-path/gallery-image
DATA ?= image-serve-path/faceexplore-data
PORT ?= 8765

.PHONY: setup test test-backend test-frontend run benchmark clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-nodeps.txt backend/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --no-deps -e backend
	touch $@

test: test-backend

test-backend: setup
	cd backend && ../$(BIN)/python -m pytest -ra

run: setup
	$(BIN)/faceexplore --data $(DATA) index $(GALLERY)

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
