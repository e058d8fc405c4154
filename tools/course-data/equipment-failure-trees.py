"""Synthetic weekly condition records of mining equipment, for trees and boosting.

Writes courses/applied-ml-for-industry/notebooks/equipment-failure-trees/equipment_weeks.csv:
one row per machine and week: machine_id, site (Ekibastuz, Zhezkazgan, Balkhash),
equipment (excavator, conveyor, pump), age_years, hours_since_service (engine hours since
the last planned service), vib_mm_s (RMS vibration velocity, mm/s), bearing_temp_c (°C),
oil_particles_ppm (wear particles in the oil, ppm), load_pct (mean load, % of rated) and
failed_30d (the label: 1 if the machine had an unplanned stop within the next 30 days).

The risk is not linear, which is where trees help: it jumps when high vibration meets a hot
bearing, when a pump runs long past its service, and when the oil fills with wear metal;
Zhezkazgan's hot summers raise every bearing's temperature, so a hot bearing means less
there. Rows of one machine are alike, so the notebook splits by machine.

    .venv/bin/python tools/course-data/equipment-failure-trees.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/equipment-failure-trees/equipment_weeks.csv"
)
SITES = {"Ekibastuz": ("EK", 0.0), "Zhezkazgan": ("ZH", 9.0), "Balkhash": ("BL", 4.0)}
KINDS = {"excavator": "EXC", "conveyor": "CNV", "pump": "PMP"}


def main() -> None:
    rng = np.random.default_rng(4407)
    rows = []
    for site, (code, heat) in SITES.items():
        for kind, kind_code in KINDS.items():
            for number in range(1, 21):
                machine = f"{code}-{kind_code}-{number:03d}"
                age = rng.uniform(1, 18)
                wear = rng.normal(0, 1)  # how worn this machine is, for all its weeks
                hours = rng.uniform(0, 600)
                for _week in range(14):
                    hours = (
                        0.0 if hours > 2200 and rng.random() < 0.6 else hours + rng.uniform(80, 160)
                    )
                    load = np.clip(rng.normal(72, 12), 30, 110)
                    vib = np.exp(rng.normal(1.2 + 0.25 * wear + 0.02 * age, 0.35))
                    temp = 52 + heat + 0.18 * load + 2.5 * vib + rng.normal(0, 4)
                    oil = np.exp(rng.normal(3.0 + 0.3 * wear + hours / 3000, 0.4))
                    score = (
                        -4.0
                        + 4.0 * ((vib > 5.5) & (temp - heat > 72))
                        + 3.5 * ((kind == "pump") & (hours > 1800))
                        + 2.5 * (oil > 60)
                        + 0.05 * age
                        + 0.6 * (load > 95)
                    )
                    failed = rng.random() < 1 / (1 + np.exp(-score))
                    rows.append(
                        {
                            "machine_id": machine,
                            "site": site,
                            "equipment": kind,
                            "age_years": round(age, 1),
                            "hours_since_service": int(hours),
                            "vib_mm_s": round(vib, 2),
                            "bearing_temp_c": round(temp, 1),
                            "oil_particles_ppm": round(oil, 1),
                            "load_pct": round(load, 1),
                            "failed_30d": int(failed),
                        }
                    )
    frame = pd.DataFrame(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {len(frame)} rows, failure rate {frame['failed_30d'].mean():.3f}")


if __name__ == "__main__":
    main()
