"""Daily rollups: marking days dirty on writes, and recomputing only those days.

`marks` holds the hook callbacks (registered in AnalyticsConfig.ready()); `refresh` the beat job's
work and the full rebuild. The tables are in analytics/models/rollups.py.
"""
