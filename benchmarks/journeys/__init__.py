"""Journey benchmark: enrolment of a 1M-member segment, 1M due waits advanced and their sends
queued, outcome-to-step latency and timer lag through real Celery workers (see __main__)."""
