"""Analytics' models, one module per area; each area adds its import line here."""
