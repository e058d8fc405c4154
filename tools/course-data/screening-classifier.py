"""Synthetic card transactions of a Kazakhstani bank, for fraud screening.

Writes courses/applied-ml-for-industry/notebooks/screening-classifier/transactions.csv:
amount_kzt (tenge), hour (0-23), online (1 for a card-not-present payment), foreign (1 when
the merchant is abroad), new_device (1 for a device the client never used before),
tx_24h (the client's transactions in the previous 24 hours), km_from_home (distance of the
point of sale from the client's city, km; 0 online) and is_fraud (the label, confirmed by
the bank's investigators). Fraud is rare (about 3 %), as the classification-metrics lesson
says: a model that never flags anything is right 97 % of the time and useless.

    .venv/bin/python tools/course-data/screening-classifier.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/screening-classifier/transactions.csv"
)


def main() -> None:
    rng = np.random.default_rng(1517)
    n = 8000
    fraud = rng.random(n) < 0.03
    # Ordinary payments: a few thousand tenge, in the daytime, near home.
    amount = np.exp(rng.normal(8.6, 1.1, n))
    weights = np.r_[[0.5] * 6, [4.5] * 16, [2.0] * 2]
    hour = rng.choice(24, n, p=weights / weights.sum())
    online = rng.random(n) < 0.3
    foreign = rng.random(n) < 0.02
    new_device = rng.random(n) < 0.04
    tx_24h = rng.poisson(2.0, n)
    km = np.where(online, 0.0, rng.exponential(6.0, n))
    # Fraud: larger sums, at night, online, abroad, from a new device, in bursts; some
    # fraud looks ordinary, so no threshold catches it all.
    k = int(fraud.sum())
    amount[fraud] = np.exp(rng.normal(10.3, 1.2, k))
    hour[fraud] = np.where(rng.random(k) < 0.55, rng.integers(0, 6, k), rng.integers(6, 24, k))
    online[fraud] = rng.random(k) < 0.7
    foreign[fraud] = rng.random(k) < 0.25
    new_device[fraud] = rng.random(k) < 0.45
    tx_24h[fraud] = rng.poisson(5.0, k)
    km[fraud] = np.where(online[fraud], 0.0, rng.exponential(120.0, k))
    frame = pd.DataFrame(
        {
            "amount_kzt": np.round(amount, -1).clip(100, None).astype(int),
            "hour": hour,
            "online": online.astype(int),
            "foreign": foreign.astype(int),
            "new_device": new_device.astype(int),
            "tx_24h": tx_24h,
            "km_from_home": km.round(1),
            "is_fraud": fraud.astype(int),
        }
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {len(frame)} rows, {int(fraud.sum())} fraud")


if __name__ == "__main__":
    main()
