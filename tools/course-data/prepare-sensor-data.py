"""Synthetic vibration log of mining equipment, for the notebook
``courses/applied-ml-for-industry/notebooks/prepare-sensor-data``.

Writes ``vibration.csv`` beside the notebook: hourly readings of eight machines at two
sites (an Ekibastuz-style coal strip mine and a Zhezkazgan-style copper mine), 1 to 28
March 2025, local time. Columns: ``site``, ``machine_id``, ``ts``, ``vib`` (vibration
velocity RMS, as text), ``unit`` (``mm/s`` or ``in/s``), ``temp_c`` (bearing temperature,
°C), ``load_pct`` (drive load, % of rated), ``rpm`` (shaft speed).

Faults on purpose, each one a lesson of data preparation:

- text in a number column: ``vib`` holds decimal commas (``"2,35"``), spaces around
  values and the operator code ``"н/д"`` (no data);
- two units: the sensors of one vendor (machines ``ZHZ-CR-1`` and ``ZHZ-CR-2``) report
  in inches per second (1 in/s = 25.4 mm/s);
- duplicates: about 2% of rows uploaded twice, and a few hours written twice with
  different values;
- missing values: ``temp_c`` and ``load_pct`` empty in about 4% of rows; the later weeks
  run warmer and under more load, so a median taken from the whole table (or the test
  weeks) differs from the training median.

    python tools/course-data/prepare-sensor-data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/prepare-sensor-data"
)
# machine: (site, base vibration mm/s, rpm, unit)
MACHINES = {
    "EKB-EX-1": ("Екібастұз", 2.8, 740, "mm/s"),
    "EKB-EX-2": ("Екібастұз", 3.1, 740, "mm/s"),
    "EKB-CV-1": ("Екібастұз", 1.9, 1480, "mm/s"),
    "EKB-CV-2": ("Екібастұз", 2.1, 1480, "mm/s"),
    "ZHZ-CR-1": ("Жезқазған", 3.6, 990, "in/s"),
    "ZHZ-CR-2": ("Жезқазған", 4.2, 990, "in/s"),
    "ZHZ-PU-1": ("Жезқазған", 1.6, 2960, "mm/s"),
    "ZHZ-PU-2": ("Жезқазған", 1.8, 2960, "mm/s"),
}


def main() -> None:
    rng = np.random.default_rng(20250301)
    hours = pd.date_range("2025-03-01 00:00", "2025-03-28 23:00", freq="h")
    week = np.asarray((hours - hours[0]).days // 7)
    frames = []
    for machine, (site, base, rpm, unit) in MACHINES.items():
        n = len(hours)
        load = np.clip(
            62 + 6 * week + 12 * np.sin(2 * np.pi * hours.hour / 24) + rng.normal(0, 8, n), 5, 110
        )
        wear = np.linspace(0, 0.6 if machine == "ZHZ-CR-2" else 0.15, n)
        vib = base * (1 + wear) * (0.7 + 0.5 * load / 100) * np.exp(rng.normal(0, 0.12, n))
        temp = 38 + 0.25 * load + 1.5 * week + rng.normal(0, 2.5, n)
        frames.append(
            pd.DataFrame(
                {
                    "site": site,
                    "machine_id": machine,
                    "ts": hours,
                    "vib": vib / 25.4 if unit == "in/s" else vib,
                    "unit": unit,
                    "temp_c": np.round(temp, 1),
                    "load_pct": np.round(load, 1),
                    "rpm": np.round(rpm * (1 - 0.02 * load / 100) + rng.normal(0, 3, n)).astype(
                        int
                    ),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).sort_values(["ts", "machine_id"], kind="stable")
    df = df.reset_index(drop=True)
    # text in the number column
    digits = np.where(df["unit"] == "in/s", 3, 2)
    text = [f"{v:.{d}f}" for v, d in zip(df["vib"], digits, strict=True)]
    style = rng.random(len(df))
    vib_text = []
    for t, s in zip(text, style, strict=True):
        if s < 0.25:
            t = t.replace(".", ",")
        elif s < 0.30:
            t = f" {t} "
        elif s < 0.33:
            t = "н/д"
        vib_text.append(t)
    df["vib"] = vib_text
    for column in ("temp_c", "load_pct"):
        df.loc[rng.random(len(df)) < 0.04, column] = np.nan
    # duplicates: exact re-uploads, and a few hours written twice with other values
    again = df.sample(frac=0.02, random_state=7)
    clash = df.sample(n=12, random_state=11).copy()
    clash["vib"] = [
        f"{float(v.replace(',', '.')) * 1.3:.2f}" if v.strip() != "н/д" else "1.00"
        for v in clash["vib"]
    ]
    df = pd.concat([df, again, clash]).sort_values(["ts", "machine_id"], kind="stable")
    df["ts"] = df["ts"].dt.strftime("%Y-%m-%d %H:%M")
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "vibration.csv", index=False)
    print(f"{OUT}: vibration.csv {len(df)} rows")


if __name__ == "__main__":
    main()
