"""Synthetic yearly consumption profiles of an electricity supplier's customers.

Writes courses/applied-ml-for-industry/notebooks/cluster-districts/customers.csv: one row
per customer of a supplier in the Pavlodar region: customer_id, district, kwh_month (mean
monthly consumption, kWh), winter_summer (January's kWh divided by July's), night_share
(share of the kWh used from 23:00 to 07:00) and peak_kw (the highest 30-minute demand, kW).

Four kinds of customer are hidden in it, with no label: flats, private houses heated by
electricity (night storage heaters), small shops and small workshops. The columns have very
different scales (kWh in thousands, shares below 1), the fault the clustering lesson names:
without scaling, k-means sees only kwh_month. Houses heated by electricity are common in the
villages of some districts and rare in the city.

    .venv/bin/python tools/course-data/cluster-districts.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/cluster-districts/customers.csv"
)
# kind: count, kwh (median), winter/summer ratio, night share, peak kW
KINDS = {
    "flat": (620, 190, 1.3, 0.24, 3.5),
    "heated-house": (260, 1300, 4.2, 0.48, 11.0),
    "shop": (180, 2300, 1.15, 0.12, 14.0),
    "workshop": (70, 5200, 0.9, 0.08, 38.0),
}
DISTRICTS = ["Pavlodar city", "Ekibastuz city", "Aksu city", "Bayanaul", "Irtysh", "Zhelezin"]
# chance of each district for each kind: heated houses live in villages
DISTRICT_WEIGHTS = {
    "flat": [0.55, 0.25, 0.12, 0.03, 0.03, 0.02],
    "heated-house": [0.05, 0.05, 0.1, 0.25, 0.3, 0.25],
    "shop": [0.4, 0.25, 0.15, 0.07, 0.07, 0.06],
    "workshop": [0.45, 0.3, 0.15, 0.04, 0.03, 0.03],
}


def main() -> None:
    rng = np.random.default_rng(808)
    parts = []
    for kind, (count, kwh, ratio, night, peak) in KINDS.items():
        parts.append(
            pd.DataFrame(
                {
                    "district": rng.choice(DISTRICTS, count, p=DISTRICT_WEIGHTS[kind]),
                    "kwh_month": np.exp(rng.normal(np.log(kwh), 0.25, count)).round(0),
                    "winter_summer": np.exp(rng.normal(np.log(ratio), 0.12, count)).round(2),
                    "night_share": np.clip(rng.normal(night, 0.04, count), 0.01, 0.9).round(3),
                    "peak_kw": np.exp(rng.normal(np.log(peak), 0.2, count)).round(1),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=3)
    frame.insert(0, "customer_id", [f"PV{100000 + i}" for i in range(len(frame))])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {len(frame)} rows")


if __name__ == "__main__":
    main()
