"""Static files named by their content: ``url_for("static", ...)`` adds ``v=<hash>``, and a
request carrying it may be kept for a year by browsers and proxies (the URL changes when the
file does). Requests without it get Flask's usual short lifetime and ETag."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from flask import Flask, request

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """The first 12 hex digits of the file's SHA-256 (cached per version of the file)."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


def version_of(static_folder: str, filename: str) -> str | None:
    path = os.path.realpath(os.path.join(static_folder, filename))
    if not path.startswith(os.path.realpath(static_folder) + os.sep):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def init_app(app: Flask) -> None:
    folder = app.static_folder or ""

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def keep_versioned(response: Any) -> Any:
        if request.endpoint == "static" and response.status_code == 200:
            version = request.args.get("v")
            if version and version == version_of(folder, request.view_args["filename"]):  # type: ignore[index]
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
        return response
