"""Synthetic daily peak load of a regional grid (Karaganda region), 2023-2025.

Writes courses/applied-ml-for-industry/notebooks/predict-grid-load/daily_peak_load.csv:
date, temp_c (mean daily air temperature, °C), holiday (1 on a public holiday of
Kazakhstan), peak_mw (the day's highest hourly load, MW). The faults the regression lesson
names are in it: gaps in the temperature (the weather station was down for 1-3 days at a
time) and days when the meter failed and wrote 0 MW. Load grows with heating below 18 °C,
a little with cooling above 22 °C, falls at weekends and on holidays, and rises by about
30 MW a year, so a random split would look better than a forecast can be.

    .venv/bin/python tools/course-data/predict-grid-load.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/predict-grid-load/daily_peak_load.csv"
)
HOLIDAYS = ["01-01", "01-02", "03-08", "03-21", "03-22", "03-23", "05-01", "05-07", "05-09"]
HOLIDAYS += ["07-06", "08-30", "10-25", "12-16", "12-17"]


def main() -> None:
    rng = np.random.default_rng(2025)
    dates = pd.date_range("2023-01-01", "2025-12-31", freq="D")
    n = len(dates)
    doy = dates.day_of_year.to_numpy()
    noise = np.zeros(n)
    for i in range(1, n):  # weather comes in spells: AR(1) noise
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 3.6)
    temp = 3.5 - 17.5 * np.cos(2 * np.pi * (doy - 18) / 365.25) + noise
    holiday = dates.strftime("%m-%d").isin(HOLIDAYS).astype(int)
    weekday = dates.day_of_week.to_numpy()
    years = (dates - dates[0]).days.to_numpy() / 365.25
    peak = (
        1480
        + 30 * years
        + 17 * np.clip(18 - temp, 0, None)
        + 6 * np.clip(temp - 22, 0, None)
        - np.where(weekday == 5, 85, 0)
        - np.where(weekday == 6, 150, 0)
        - 140 * holiday * (weekday < 5)
        + rng.normal(0, 32, n)
    )
    frame = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "temp_c": temp.round(1),
            "holiday": holiday,
            "peak_mw": peak.round(0).astype(int),
        }
    )
    # The weather station was down now and then, for one to three days.
    for start in rng.choice(np.arange(5, n - 5), size=14, replace=False):
        frame.loc[start : start + int(rng.integers(0, 3)), "temp_c"] = np.nan
    # The meter failed on a few days and wrote 0 MW.
    frame.loc[rng.choice(np.arange(n), size=6, replace=False), "peak_mw"] = 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {len(frame)} rows")


if __name__ == "__main__":
    main()
