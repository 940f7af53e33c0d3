"""Customer metrics as services returning plain data, for the dashboards and the API alike.

`formulas` is the pure arithmetic (no database); the other modules fetch counts with grouped SQL
(from the daily rollups for the whole base, from orders joined to segment membership when a
segment or acquisition cohort narrows it) and hand them to the formulas.
"""
