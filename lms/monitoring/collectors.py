"""Figures read when /metrics is scraped: jobs waiting in the database, messages waiting in
the broker. Both are the same for every web node (Prometheus: take the max, not the sum).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from lms.assignments.models import Submission, SubmissionStatus
from lms.workspace.models import CellRun, RunStatus

log = logging.getLogger(__name__)


class JobStates(Collector):
    """``oqu_jobs{kind,state}`` and the age of the oldest queued job, from the rows."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "oqu_jobs",
            "Jobs in the database by kind and state (queued, running).",
            labels=["kind", "state"],
        )
        oldest = GaugeMetricFamily(
            "oqu_jobs_oldest_queued_seconds",
            "Age of the oldest queued job, by kind.",
            labels=["kind"],
        )
        factory = self.app.extensions["oqu.db"]["factory"]
        now = datetime.now(UTC)
        # (kind, model, its status column, its queued state, the column of its queue time)
        kinds = (
            (
                "grading",
                Submission,
                SubmissionStatus.QUEUED,
                SubmissionStatus.RUNNING,
                "submitted_at",
            ),
            ("run", CellRun, RunStatus.QUEUED, RunStatus.RUNNING, "created_at"),
        )
        try:
            with factory() as session:
                read = []
                for kind, model, queued, running, since in kinds:
                    counts = dict(
                        session.execute(
                            select(model.status, func.count())
                            .where(model.status.in_([queued, running]))
                            .group_by(model.status)
                        ).all()
                    )
                    first = session.scalar(
                        select(func.min(getattr(model, since))).where(model.status == queued)
                    )
                    read.append((kind, queued, running, counts, first))
        except Exception as error:  # noqa: BLE001 - a scrape reports what it can
            log.warning("job states not read: %s", error)
            return
        for kind, queued, running, counts, first in read:
            for state in (queued, running):
                jobs.add_metric([kind, str(state)], float(counts.get(state, 0)))
            age = 0.0 if first is None else max(0.0, (now - first).total_seconds())
            oldest.add_metric([kind], age)
        yield jobs
        yield oldest


def queue_names(config: Any) -> list[str]:
    """The broker queues the workers consume: grading, and the workspace's runs if any."""
    names = [str(config.get("GRADING_QUEUE") or "grading")]
    if config.get("RUN_QUEUE"):
        names.append(str(config["RUN_QUEUE"]))
    return names


def broker_depths(config: Any, names: list[str]) -> dict[str, int]:
    """Messages waiting in each queue of the broker (filesystem, Redis or AMQP)."""
    url = str(config["BROKER_URL"])
    if url.startswith("filesystem://"):
        folder = Path(url.removeprefix("filesystem://")) / "out"
        counts = dict.fromkeys(names, 0)
        try:
            entries = os.scandir(folder)
        except FileNotFoundError:
            return counts
        with entries:
            for entry in entries:
                # kombu's file names end ".<queue>.msg"; ours in flight start with a dot.
                if entry.name.endswith(".msg") and not entry.name.startswith("."):
                    queue = entry.name[:-4].rsplit(".", 1)[-1]
                    if queue in counts:
                        counts[queue] += 1
        return counts
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return {name: int(client.llen(name)) for name in names}
        finally:
            client.close()
    from kombu import Connection

    with Connection(url, connect_timeout=1) as connection:
        channel = connection.default_channel
        return {
            name: int(channel.queue_declare(queue=name, passive=True).message_count)
            for name in names
        }


class QueueDepths(Collector):
    """``oqu_broker_queue_messages{queue}``: what the broker holds for the workers."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "oqu_broker_queue_messages",
            "Messages waiting in the broker, by queue.",
            labels=["queue"],
        )
        try:
            depths = broker_depths(self.app.config, queue_names(self.app.config))
        except Exception as error:  # noqa: BLE001 - a broker that is down: say so, go on
            log.warning("broker queue depths not read: %s", error)
            return
        for name, depth in depths.items():
            family.add_metric([name], float(depth))
        yield family
