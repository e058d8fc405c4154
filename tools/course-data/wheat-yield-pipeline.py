"""Synthetic spring-wheat yields by field, for the notebook
``courses/applied-ml-for-industry/notebooks/wheat-yield-pipeline``.

Writes ``wheat.csv`` beside the notebook: fields of fifteen districts of Kostanay, Akmola
and North Kazakhstan regions, 2015 to 2024. Columns: ``year``, ``region``, ``district``,
``variety``, ``tillage`` (``no-till``, ``minimum``, ``conventional``), ``rain_mm`` (rain
from May to July, mm), ``temp_may_c`` (mean May temperature, °C), ``fertiliser_kg_ha``
(nitrogen, kg/ha of active substance), ``yield_c_ha`` (centners per hectare).

Faults on purpose: gaps in ``rain_mm`` (a weather station down), ``fertiliser_kg_ha``
(not reported) and ``tillage``; a new variety sown first in 2024 that the years before
never saw (an unknown category for a model trained on earlier years).

    python tools/course-data/wheat-yield-pipeline.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = (
    Path(__file__).resolve().parents[2]
    / "courses/applied-ml-for-industry/notebooks/wheat-yield-pipeline"
)
DISTRICTS = {
    "Қостанай": ["Қарабалық", "Федоров", "Меңдіқара", "Алтынсарин", "Сарыкөл"],
    "Ақмола": ["Шортанды", "Астрахан", "Атбасар", "Есіл", "Жарқайың"],
    "Солтүстік Қазақстан": ["Тайынша", "Ақжар", "Аққайың", "Ғабит Мүсірепов", "Тимирязев"],
}
REGION_RAIN = {"Қостанай": 125.0, "Ақмола": 135.0, "Солтүстік Қазақстан": 160.0}
VARIETIES = {  # variety: yield effect, c/ha
    "Астана": 0.0,
    "Шортандинская 95": 0.8,
    "Омская 36": 0.5,
    "Ақмола 2": 0.3,
    "Карабалыкская 98": 0.6,
}
NEW_VARIETY = ("Тәуелсіздік 30", 1.2)
TILLAGE = {"no-till": 1.2, "minimum": 0.6, "conventional": 0.0}


def main() -> None:
    rng = np.random.default_rng(20240915)
    rows = []
    for year in range(2015, 2025):
        year_rain = rng.normal(0, 28)  # a dry or a wet summer for the whole north
        year_temp = rng.normal(0, 1.2)
        for region, districts in DISTRICTS.items():
            for district in districts:
                district_rain = REGION_RAIN[region] + year_rain + rng.normal(0, 12)
                district_effect = rng.normal(0, 0.8)
                for _field in range(6):
                    names = list(VARIETIES)
                    variety = names[rng.integers(len(names))]
                    effect = VARIETIES[variety]
                    if year == 2024 and rng.random() < 0.25:
                        variety, effect = NEW_VARIETY
                    tillage = list(TILLAGE)[rng.choice(3, p=[0.45, 0.35, 0.20])]
                    rain = max(20.0, district_rain + rng.normal(0, 10))
                    temp = 13.5 + year_temp + rng.normal(0, 0.6)
                    fert = max(0.0, rng.normal(35, 15))
                    dry = rain < 120
                    yld = (
                        11.0
                        + 0.035 * (rain - 140)
                        - 0.5 * (temp - 13.5)
                        + 0.04 * fert
                        + effect
                        + TILLAGE[tillage] * (1.8 if dry else 1.0)
                        + district_effect
                        + rng.normal(0, 1.3)
                    )
                    rows.append(
                        (
                            year,
                            region,
                            district,
                            variety,
                            tillage,
                            round(rain, 1),
                            round(temp, 1),
                            round(fert, 1),
                            round(max(yld, 2.0), 1),
                        )
                    )
    df = pd.DataFrame(
        rows,
        columns=[
            "year",
            "region",
            "district",
            "variety",
            "tillage",
            "rain_mm",
            "temp_may_c",
            "fertiliser_kg_ha",
            "yield_c_ha",
        ],
    )
    df.loc[rng.random(len(df)) < 0.05, "rain_mm"] = np.nan
    df.loc[rng.random(len(df)) < 0.08, "fertiliser_kg_ha"] = np.nan
    df.loc[rng.random(len(df)) < 0.03, "tillage"] = np.nan
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "wheat.csv", index=False)
    print(f"{OUT}: wheat.csv {len(df)} rows")


if __name__ == "__main__":
    main()
