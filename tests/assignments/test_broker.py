"""The filesystem broker: messages appear whole, and a broken file does not stop a worker."""

from __future__ import annotations

from pathlib import Path

from kombu import Connection

from lms.assignments import broker
from lms.assignments.tasks import celery_settings


def test_messages_are_renamed_into_place_and_bad_files_are_skipped(tmp_path: Path):
    settings = celery_settings(
        {
            "BROKER_URL": f"filesystem://{tmp_path}",
            "BROKER_POLL_INTERVAL": 0.02,
            "GRADING_SWEEP_SECONDS": 30,
            "GRADING_QUEUE": "grading",
        }
    )
    assert settings["broker_url"] == f"{broker.SCHEME}://"
    with Connection(
        settings["broker_url"], transport_options=settings["broker_transport_options"]
    ) as conn:
        queue = conn.SimpleQueue("grading")
        # what a consumer could once read half-written: an empty message file
        (tmp_path / "out" / "1_a.grading.msg").write_bytes(b"")
        (tmp_path / "out" / ".2_b.grading.msg.part").write_bytes(b"{")  # being written
        queue.put({"submission": 7})
        parts = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".part"))
        assert parts == [".2_b.grading.msg.part"]  # ours was renamed into place
        message = queue.get(timeout=2)
        assert message.payload == {"submission": 7}
        message.ack()
        queue.close()
