"""Every metric Oqu exports, in one place (names and meanings: docs/operations.md).

Imported lazily, on first use: prometheus_client decides at import whether values live in
this process or in the multiprocess directory (lms/monitoring/multiproc.py). Gauges that
describe one process's state (kernels, connections, requests in flight) are summed over
the live processes; counters and histograms over every process since the server started.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Request latencies: most pages answer within tens of milliseconds; the tail matters.
WEB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From upload to score: the goal is under a second, the sweep's deadline minutes.
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter(
    "oqu_http_requests",
    "Requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_DURATION = Histogram(
    "oqu_http_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=WEB_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "oqu_http_requests_in_progress",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)

TASKS = Counter(
    "oqu_tasks",
    "Background tasks finished, by task and result (stored, skipped, requeued, "
    "gave_up, done, failed, cancelled, error...).",
    ["task", "result"],
)
TASK_DURATION = Histogram(
    "oqu_task_duration_seconds",
    "Time a worker spent on one task.",
    ["task"],
    buckets=JOB_BUCKETS,
)
TASK_QUEUE_WAIT = Histogram(
    "oqu_task_queue_wait_seconds",
    "Time from sending a task to a worker starting it.",
    ["task"],
    buckets=JOB_BUCKETS,
)
TASKS_RUNNING = Gauge(
    "oqu_tasks_running", "Tasks being executed now.", ["task"], multiprocess_mode="livesum"
)

GRADING_RESULTS = Counter(
    "oqu_grading_results", "Grading results stored, by status (graded, failed).", ["status"]
)
UPLOAD_TO_SCORE = Histogram(
    "oqu_grading_upload_to_score_seconds",
    "From a learner's upload to the stored score (first grading only, not regrades).",
    buckets=SCORE_BUCKETS,
)

KERNELS = Gauge(
    "oqu_kernel_pool_kernels",
    "Kernels of the workers' pools, by state (ready, starting, in_use).",
    ["state"],
    multiprocess_mode="livesum",
)
KERNEL_START = Histogram(
    "oqu_kernel_start_seconds", "Time to start one (sandboxed) kernel.", buckets=JOB_BUCKETS
)
KERNEL_WAIT = Histogram(
    "oqu_kernel_acquire_wait_seconds",
    "Time a grading or run waited for a kernel.",
    buckets=JOB_BUCKETS,
)
SANDBOX_FAILURES = Counter(
    "oqu_sandbox_failures",
    "Kernels that could not be had, by kind (start, unavailable).",
    ["kind"],
)

DB_CONNECTIONS = Gauge(
    "oqu_db_pool_connections",
    "Database connections of the pools, by state (open, checked_out).",
    ["state"],
    multiprocess_mode="livesum",
)
DB_POOL_TIMEOUTS = Counter(
    "oqu_db_pool_timeouts", "Requests that found no free database connection in time."
)

COMPLETIONS = Counter(
    "oqu_completions_recorded", "Course completions recorded (facts), by tier.", ["tier"]
)
