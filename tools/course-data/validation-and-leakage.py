"""Synthetic small-business loan applications of a bank, for the notebook
``courses/applied-ml-for-industry/notebooks/validation-and-leakage``.

Writes ``loans.csv`` beside the notebook: 2,000 approved loans to small businesses.
Columns: ``loan_id``, ``amount_mln_kzt`` (loan, million tenge), ``term_months``,
``rate_pct`` (annual rate, %), ``turnover_mln_kzt`` (mean monthly turnover, million
tenge), ``years_in_business``, ``prior_delays`` (late payments on earlier loans),
``collection_calls`` (calls from the bank's collection desk) and ``default_12m`` (1 if the
loan went 90+ days overdue within 12 months).

The fault on purpose: ``collection_calls`` is written **after** the loan is issued, when
payments are already missed. It is known only once the answer is known: target leakage.
A model with it looks excellent and is useless at the moment of the decision.

    python tools/course-data/validation-and-leakage.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/validation-and-leakage"
)


def main() -> None:
    rng = np.random.default_rng(20251117)
    n = 2000
    turnover = np.round(np.exp(rng.normal(np.log(6.0), 0.6, n)), 2)
    amount = np.round(turnover * rng.uniform(1.0, 6.0, n), 1)
    term = rng.choice([12, 24, 36, 48, 60], n, p=[0.15, 0.3, 0.3, 0.15, 0.1])
    years = np.round(np.clip(rng.gamma(2.0, 3.0, n), 0.5, 30), 1)
    delays = rng.poisson(0.6, n)
    rate = np.round(np.clip(16 + 1.2 * delays - 0.15 * years + rng.normal(0, 2, n), 12, 28), 1)
    burden = amount / (turnover * term) * 12  # share of a year's turnover per year of loan
    logit = (
        -3.7
        + 0.55 * delays
        + 1.4 * burden
        - 0.07 * years
        + 0.08 * (rate - 17)
        + rng.normal(0, 0.8, n)
    )
    default = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    calls = np.where(default == 1, rng.poisson(7.0, n), rng.poisson(0.4, n))
    df = pd.DataFrame(
        {
            "loan_id": [f"L{200000 + i}" for i in range(n)],
            "amount_mln_kzt": amount,
            "term_months": term,
            "rate_pct": rate,
            "turnover_mln_kzt": turnover,
            "years_in_business": years,
            "prior_delays": delays,
            "collection_calls": calls,
            "default_12m": default,
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "loans.csv", index=False)
    print(f"{OUT}: loans.csv {n} rows, default share {default.mean():.3f}")


if __name__ == "__main__":
    main()
