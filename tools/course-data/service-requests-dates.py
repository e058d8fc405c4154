"""Synthetic requests to public service centres, for the notebook
``courses/applied-ml-for-industry/notebooks/service-requests-dates``.

Writes ``requests.csv`` beside the notebook: one row per request, 6 January to
27 April 2025 (16 weeks), in six regions. Columns: ``request_id``, ``region``,
``service``, ``channel`` (``centre`` at a service centre's desk, ``online`` on the portal,
which never closes), ``created`` and ``closed``.

Faults on purpose, as the central system exports them: both times are written as
``dd.mm.YYYY HH:MM`` (day first) in **UTC**, while the centres work on local time
(Asia/Almaty, UTC+5 since 1 March 2024); ``closed`` is empty for requests still open;
about 0.5% of rows were closed "before" they were created (a clerk typed the wrong
date).

    python tools/course-data/service-requests-dates.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/service-requests-dates"
)
REGIONS = {  # region: requests per working day (about)
    "Астана": 11,
    "Алматы": 13,
    "Шымкент": 9,
    "Қарағанды": 6,
    "Ақтөбе": 5,
    "Павлодар": 4,
}
SERVICES = {  # service: (share, median handling hours, spread)
    "Мекенжай анықтамасы": (0.30, 0.6, 0.6),
    "Жүргізуші куәлігі": (0.22, 3.0, 0.5),
    "Көлікті тіркеу": (0.20, 5.0, 0.6),
    "Жер учаскесі": (0.12, 150.0, 0.5),
    "Зейнетақы тағайындау": (0.16, 70.0, 0.4),
}
LOCAL = 5  # hours ahead of UTC


def main() -> None:
    rng = np.random.default_rng(20250106)
    days = pd.date_range("2025-01-06", "2025-04-27", freq="D")
    rows = []
    services = list(SERVICES)
    shares = np.array([SERVICES[s][0] for s in services])
    for region, per_day in REGIONS.items():
        speed = rng.uniform(0.8, 1.3)  # some regions are slower
        for day in days:
            weekday = day.day_of_week
            spring = 1 + 0.25 * (day.month >= 3)  # more land requests in spring
            n_centre = 0 if weekday == 6 else rng.poisson(per_day * (0.45 if weekday == 5 else 1))
            n_online = rng.poisson(per_day * 0.35 * spring)
            for channel, n in (("centre", n_centre), ("online", n_online)):
                for _ in range(n):
                    if channel == "centre":
                        close = 13 if weekday == 5 else 19
                        local_hour = rng.uniform(9, close)
                    else:  # the portal: mostly evenings, some at night
                        local_hour = rng.choice(
                            [rng.uniform(0, 24), rng.normal(21, 2.0) % 24], p=[0.5, 0.5]
                        )
                    created_local = day + pd.Timedelta(hours=float(local_hour))
                    service = services[rng.choice(len(services), p=shares / shares.sum())]
                    _, median, spread = SERVICES[service]
                    hours = median * speed * float(np.exp(rng.normal(0, spread)))
                    if service == "Жер учаскесі":
                        hours *= spring
                    closed_local = created_local + pd.Timedelta(hours=hours)
                    rows.append((region, service, channel, created_local, closed_local))
    df = pd.DataFrame(rows, columns=["region", "service", "channel", "created", "closed"])
    df = df.sort_values("created", kind="stable").reset_index(drop=True)
    df["created"] = df["created"] - pd.Timedelta(hours=LOCAL)
    df["closed"] = df["closed"] - pd.Timedelta(hours=LOCAL)
    end = pd.Timestamp("2025-04-27 19:00")  # export time (UTC)
    df.loc[df["closed"] > end, "closed"] = pd.NaT
    wrong = rng.random(len(df)) < 0.005
    df.loc[wrong, "closed"] = df.loc[wrong, "created"] - pd.to_timedelta(
        rng.integers(1, 48, wrong.sum()), unit="h"
    )
    df.insert(0, "request_id", [f"R{100000 + i}" for i in range(len(df))])
    for column in ("created", "closed"):
        df[column] = df[column].dt.strftime("%d.%m.%Y %H:%M")
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "requests.csv", index=False)
    print(f"{OUT}: requests.csv {len(df)} rows, {df['closed'].isna().sum()} open")


if __name__ == "__main__":
    main()
