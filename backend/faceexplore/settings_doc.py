"""docs/configuration.md, generated from the ``Settings`` fields so that the page and the code
cannot drift apart (tests/test_settings_doc.py fails when they do). Regenerate it with

    cd backend && ../.venv/bin/python -m faceexplore.settings_doc > ../docs/configuration.md

Each row: the setting, its environment variables, its command-line flag (``json_schema_extra``'s
"flag"), its default and its meaning (the field's description). The prose around the table is
``PAGE`` below.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .settings import Settings, env_names

REGENERATE = "cd backend && ../.venv/bin/python -m faceexplore.settings_doc > ../docs/configuration.md"

PAGE = """\
<!-- Generated from backend/faceexplore/settings.py; do not edit. Regenerate: {regenerate} -->
# Configuration

Settings come from, lowest priority first: the defaults, a TOML settings file
(`DATA/faceexplore.toml`, or the file named by `FACEEXPLORE_SETTINGS`), environment variables
`FACEEXPLORE_<NAME>`, and command-line flags. Every value is checked when a command starts: an
unknown setting, a value of the wrong type or out of range stops it with an error that names the
setting and where it came from (the file, the environment variable or the flag).

{table}

Example `image-serve-path/faceexplore-data/faceexplore.toml`:

```toml
model = "dlib"
index_workers = 2
false_alarm_rate = 0.01
```

Changing the model means re-indexing (the index records which model made it and refuses another).
`min_face_size = 40` indexes large photos faster but misses the small faces of a group photo's
back rows ([docs/speed.md](speed.md#the-5-target-and-the-smallest-face)).

The command line: `faceexplore [--data DATA] COMMAND`, with `index [GALLERY]`, `cluster
[--explain]`, `report`, `search PHOTO...`, `evaluate people|event FOLDER`, `status`,
`serve [GALLERY] [--host H] [--port N] [--watch]`, `watch [GALLERY]`, `set-password` (`faceexplore COMMAND --help` for each).
"""


def shown_default(name: str) -> str:
    """The field's default as the page shows it: in words where given, else the value in code."""
    field = Settings.model_fields[name]
    extra = field.json_schema_extra or {}
    if "shown_default" in extra:
        return extra["shown_default"]
    value = field.default
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, Path):
        value = value.as_posix()
    return f"`{value}`"


def environment(name: str) -> str:
    first, *others = env_names(name)
    notes = [f"or `{other}`" for other in others]
    notes += [(Settings.model_fields[name].json_schema_extra or {}).get("env_format", "")]
    notes = [n for n in notes if n]
    return f"`{first}`" + (f" ({'; '.join(notes)})" if notes else "")


def table() -> str:
    rows = ["| setting | environment variable | flag | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        flag = (field.json_schema_extra or {}).get("flag", "")
        cells = [f"`{name}`", environment(name), flag, shown_default(name), field.description or ""]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def markdown() -> str:
    return PAGE.format(regenerate=REGENERATE, table=table())


if __name__ == "__main__":
    sys.stdout.write(markdown())
