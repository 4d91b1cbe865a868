"""The web app's plumbing that every feature uses: the per-app state (state), errors, the API's
models, JSON responses (serialize), opaque tokens, allowed hosts and rate limits.

May import: the layers below the web (settings, faces, index, people, search, live), never a
web feature."""
