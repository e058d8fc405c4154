"""Celery's filesystem transport, made safe for a consumer that polls every few milliseconds.

Kombu's producer creates the message file and then writes it; a consumer polling the folder
can take the file in between, read it empty, and die ("Unrecoverable error: JSONDecodeError"
ends the whole worker: seen here under load). This transport writes each message to a
hidden temporary name in the same folder and renames it into place (atomic on POSIX), and
a consumer skips a file it cannot decode instead of crashing.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

SCHEME = "oqu-filesystem"


class Channel(filesystem.Channel):
    # Kombu's filesystem Channel names the message "payload" and its base class "message";
    # no signature can match both, so this one matches the class it extends.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(filesystem.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        # A leading dot: kombu's consumer matches "<id>.<queue>.msg" and skips this name.
        temporary = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue: str, timeout: Any = None) -> Any:
        while True:
            try:
                return super()._get(queue)
            except ValueError as error:  # an undecodable file: skip it, keep consuming
                log.error("skipped an unreadable message file in queue %s: %s", queue, error)


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
