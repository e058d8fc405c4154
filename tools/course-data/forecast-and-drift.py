"""Synthetic hourly water supply of one district of Astana, 2024-01-01 to 2025-10-31.

Writes courses/applied-ml-for-industry/notebooks/forecast-and-drift/water_hourly.csv:
time (local time, Asia/Almaty, hour start) and flow_m3h (water supplied in that hour, m³).
It has a morning and an evening peak, quieter weekends, more water in summer (watering) and
a slow growth of the district. The faults the time-series and monitoring lessons name:
hours missing from the telemetry (about 1 %: the rows are absent, not empty), and a meter
replaced on 2025-10-01 whose calibration reads 15 % high, a change of the data, not of the
district, that a drift check must find.

    .venv/bin/python tools/course-data/forecast-and-drift.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/forecast-and-drift/water_hourly.csv"
)
# share of a day's water in each hour, a working day and a weekend day
WORKDAY = np.array(
    [
        2,
        1.5,
        1.2,
        1.2,
        1.5,
        2.5,
        5,
        7.5,
        7,
        5,
        4.2,
        4,
        4.2,
        4,
        3.8,
        3.8,
        4,
        4.8,
        6,
        6.8,
        6.5,
        5.5,
        4,
        3,
    ]
)
WEEKEND = np.array(
    [
        2.5,
        2,
        1.5,
        1.2,
        1.2,
        1.5,
        2.5,
        4,
        5.5,
        6.5,
        6,
        5.5,
        5.2,
        5,
        4.5,
        4.3,
        4.5,
        5,
        5.8,
        6.3,
        6,
        5.2,
        4.2,
        3.2,
    ]
)


def main() -> None:
    rng = np.random.default_rng(1997)
    days = pd.date_range("2024-01-01", "2025-10-31", freq="D")
    day_noise = np.zeros(len(days))
    for i in range(1, len(days)):  # wet or hot spells last several days
        day_noise[i] = 0.6 * day_noise[i - 1] + rng.normal(0, 0.035)
    doy = days.day_of_year.to_numpy()
    summer = np.exp(-(((doy - 200) / 45.0) ** 2))  # watering season, peaks in mid-July
    growth = 1 + 0.04 * (days - days[0]).days.to_numpy() / 365.25
    daily = 24000 * growth * (1 + 0.3 * summer) * (1 + day_noise)
    weekend = days.day_of_week.to_numpy() >= 5
    daily = daily * np.where(weekend, 1.06, 1.0)
    hours, flows = [], []
    for day, total, is_weekend in zip(days, daily, weekend, strict=True):
        shape = WEEKEND if is_weekend else WORKDAY
        hourly = total * shape / shape.sum() * np.exp(rng.normal(0, 0.04, 24))
        hours.extend(day + pd.to_timedelta(np.arange(24), unit="h"))
        flows.extend(hourly)
    frame = pd.DataFrame({"time": hours, "flow_m3h": np.round(flows, 1)})
    # The new meter (from 2025-10-01) reads 15 % high.
    new_meter = frame["time"] >= "2025-10-01"
    frame.loc[new_meter, "flow_m3h"] = (frame.loc[new_meter, "flow_m3h"] * 1.15).round(1)
    # Telemetry gaps: about 1 % of hours never arrived.
    frame = frame[rng.random(len(frame)) > 0.01]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False, date_format="%Y-%m-%d %H:%M")
    print(f"{OUT}: {len(frame)} rows")


if __name__ == "__main__":
    main()
