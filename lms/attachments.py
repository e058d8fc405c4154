"""The Content-Disposition header of a download, for every feature's file responses."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact name as RFC 5987 ``filename*``.

    Old clients read the ASCII fallback (accents dropped, quotes and anything outside
    printable ASCII replaced by ``_``); current browsers take ``filename*`` (UTF-8,
    percent-encoded), so a Kazakh or Russian name arrives as it is.
    """
    kind = "inline" if inline else "attachment"
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in plain)
    plain = plain.strip() or "download"
    if plain == filename:
        return f'{kind}; filename="{plain}"'
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
