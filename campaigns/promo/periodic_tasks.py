from api.periodic import PeriodicJob

PROMO_PERIODIC_TASKS = [
    PeriodicJob(
        name="Promo codes: settle reservations by message status, check stock",
        task="campaigns.promo.settle_codes",
        every_seconds=60,
    ),
    PeriodicJob(
        name="Promo codes: expire codes of ended pools",
        task="campaigns.promo.expire_codes",
        every_seconds=15 * 60,
    ),
]
