"""Analytics benchmark: CLV, rollups and dashboards on the segments benchmark's data."""
