"""CLV fits: the parameters of the BG/NBD and Gamma-Gamma models behind every customer's CLV."""

from django.db import models
from django.utils.timezone import now


class ClvFit(models.Model):
    """One run of `clv_refresh`: the models fitted on every customer's summary, then everyone scored.

    A run that could not fit (too little data, no convergence) is kept too, with `error` and no
    parameters, so the CLV page can say why; customers then keep the values of the last good fit.
    """

    class Status(models.TextChoices):
        OK = "ok", "Fitted"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=6, choices=Status.choices)
    error_code = models.CharField(max_length=30, blank=True)  # see analytics.clv.models
    error = models.TextField(blank=True)
    calibration_end = models.DateField()
    fitted_at = models.DateTimeField(default=now)
    duration_seconds = models.FloatField(default=0)
    # Seconds per phase (summary, fit, score), to see where a slow run spends its time.
    timings = models.JSONField(default=dict, blank=True)
    customers = models.PositiveIntegerField(default=0)  # with a completed order
    repeat_customers = models.PositiveIntegerField(default=0)  # with a purchase on a later day
    summary_groups = models.PositiveIntegerField(default=0)  # distinct (x, t_x, T)
    # BG/NBD (time in weeks) and Gamma-Gamma; null when the run failed.
    r = models.FloatField(null=True)
    alpha = models.FloatField(null=True)
    a = models.FloatField(null=True)
    b = models.FloatField(null=True)
    bgnbd_log_likelihood = models.FloatField(null=True)
    p = models.FloatField(null=True)
    q = models.FloatField(null=True)
    gamma = models.FloatField(null=True)
    gamma_gamma_log_likelihood = models.FloatField(null=True)
    horizon_months = models.PositiveSmallIntegerField(default=12)
    discount_monthly = models.FloatField(default=0.01)
    scored = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["-fitted_at"], name="clvfit_latest")]

    def __str__(self) -> str:
        return f"CLV fit {self.fitted_at:%Y-%m-%d %H:%M} ({self.status})"
