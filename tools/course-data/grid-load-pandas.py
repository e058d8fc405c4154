"""Synthetic hourly load of a regional grid (Karaganda region), for the notebook
``courses/applied-ml-for-industry/notebooks/grid-load-pandas``.

Writes two CSV files beside the notebook:

- ``substations.csv``: one row per substation in the register (id, name, city,
  voltage in kV, transformer capacity in MVA, main consumer);
- ``grid_load.csv``: hourly readings, January and February 2025, local time
  (Asia/Almaty, UTC+5): timestamp, substation id, load in MW, outdoor temperature in °C.

Faults a specialist meets in such an export, on purpose: about 1% of the load readings
are missing (telemetry gaps, empty cells), and one substation that was put into service in
January (``PS-10``) sends readings but is not yet in the register.

    python tools/course-data/grid-load-pandas.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/grid-load-pandas"
)

# id, name, city, kV, MVA, main consumer, base MW, evening share, industrial
SUBSTATIONS = [
    ("PS-01", "Майқұдық", "Қарағанды", 110, 80, "residential", 34.0, 0.35, False),
    ("PS-02", "Оңтүстік-Шығыс", "Қарағанды", 110, 63, "residential", 27.0, 0.40, False),
    ("PS-03", "Сортировка", "Қарағанды", 220, 125, "industrial", 61.0, 0.10, True),
    ("PS-04", "Металлург", "Теміртау", 220, 250, "industrial", 148.0, 0.05, True),
    ("PS-05", "Теміртау-Қала", "Теміртау", 110, 63, "residential", 24.0, 0.38, False),
    ("PS-06", "Шахтинск", "Шахтинск", 110, 40, "mining", 21.0, 0.12, True),
    ("PS-07", "Саран", "Саран", 35, 25, "residential", 9.5, 0.42, False),
    ("PS-08", "Балқаш-Мыс", "Балқаш", 220, 200, "industrial", 117.0, 0.06, True),
    ("PS-09", "Абай", "Абай", 35, 16, "residential", 6.2, 0.45, False),
]
NEW = ("PS-10", 12.0, 0.30, False)  # put into service on 20 January, not registered


def temperature(hours: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Karaganda winter: mean about -15 °C, colder at night, cold spells lasting days."""
    day = np.arange(len(hours)) / 24
    spells = np.cumsum(rng.normal(0, 0.9, len(hours) // 24 + 1))
    spells = spells - np.linspace(spells[0], spells[-1], len(spells))
    daily = np.repeat(spells, 24)[: len(hours)] * 3.6
    diurnal = 4.0 * np.cos(2 * np.pi * (hours.hour.to_numpy() - 15) / 24)
    trend = 4.0 * day / day[-1]  # February is a little warmer
    return np.round(-12.0 + trend + daily + diurnal + rng.normal(0, 1.0, len(hours)), 1)


def load_profile(
    hours: pd.DatetimeIndex,
    temp: np.ndarray,
    base: float,
    evening: float,
    industrial: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    h = hours.hour.to_numpy()
    weekend = hours.day_of_week.to_numpy() >= 5
    morning = np.exp(-((h - 8) ** 2) / 4.0)
    night = np.exp(-((h - 19.5) ** 2) / 5.0)
    shape = 0.72 + 0.18 * morning + evening * night + (0.1 if industrial else 0.0)
    shape = shape - np.where(weekend, 0.04 if industrial else -0.03, 0.0)
    heating = 1 + 0.012 * np.clip(-temp - 5, 0, None)
    noise = rng.normal(1, 0.03 if industrial else 0.04, len(h))
    return np.round(base * shape * heating * noise, 2)


def main() -> None:
    rng = np.random.default_rng(20250110)
    hours = pd.date_range("2025-01-01 00:00", "2025-02-28 23:00", freq="h")
    temp = temperature(hours, rng)
    frames = []
    for sid, _name, _city, _kv, _mva, _kind, base, evening, industrial in SUBSTATIONS:
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": hours,
                    "substation_id": sid,
                    "temperature_c": temp,
                    "load_mw": load_profile(hours, temp, base, evening, industrial, rng),
                }
            )
        )
    sid, base, evening, industrial = NEW
    live = hours >= pd.Timestamp("2025-01-20 10:00")
    frames.append(
        pd.DataFrame(
            {
                "timestamp": hours[live],
                "substation_id": sid,
                "temperature_c": temp[live],
                "load_mw": load_profile(hours[live], temp[live], base, evening, industrial, rng),
            }
        )
    )
    load = pd.concat(frames, ignore_index=True)
    gaps = rng.random(len(load)) < 0.01
    load.loc[gaps, "load_mw"] = np.nan
    load = load.sort_values(["timestamp", "substation_id"], kind="stable")
    load["timestamp"] = load["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    load = load[["timestamp", "substation_id", "load_mw", "temperature_c"]]
    OUT.mkdir(parents=True, exist_ok=True)
    load.to_csv(OUT / "grid_load.csv", index=False)
    register = pd.DataFrame(
        [s[:6] for s in SUBSTATIONS],
        columns=["substation_id", "name", "city", "voltage_kv", "capacity_mva", "consumer"],
    )
    register.to_csv(OUT / "substations.csv", index=False)
    print(f"{OUT}: grid_load.csv {len(load)} rows, substations.csv {len(register)} rows")


if __name__ == "__main__":
    main()
