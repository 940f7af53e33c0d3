from campaigns.promo.periodic_tasks import PROMO_PERIODIC_TASKS

PERIODIC_TASKS = [*PROMO_PERIODIC_TASKS]
