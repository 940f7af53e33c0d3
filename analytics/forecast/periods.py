"""The retrospective forecast's periods: the same window as the launch, in each earlier year.

The seed's example: a launch on 1 December 2023 with a six-month horizon looks at 1 December 2022 →
1 June 2023 and 1 December 2021 → 1 June 2022. A window is used only if it lies wholly in the past
and starts on or after the first day with data, so a half-covered year never skews the range.
"""

import datetime as dt
from dataclasses import dataclass

MAX_YEARS_BACK = 10


@dataclass(frozen=True)
class Period:
    years_back: int
    start: dt.date
    end: dt.date  # exclusive


def same_day_years_back(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def earlier_periods(
    launch: dt.date, horizon_days: int, *, first_day: dt.date, today: dt.date
) -> list[Period]:
    """Earlier years' windows, nearest first, that are complete and covered by the data."""
    periods = []
    for years in range(1, MAX_YEARS_BACK + 1):
        start = same_day_years_back(launch, years)
        end = start + dt.timedelta(days=horizon_days)
        if start < first_day:
            break
        if end > today:
            continue  # not over yet (a launch less than a horizon after its first anniversary)
        periods.append(Period(years, start, end))
    return periods
