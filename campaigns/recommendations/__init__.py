"""Product picks from behaviour, computed set-based in SQL: see services.recommendations_refresh."""
