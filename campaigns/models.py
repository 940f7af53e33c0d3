"""The campaigns app's models, one import line per subpackage."""

from campaigns.promo.models import PromoCode, PromoCodeStatus, PromoPool, PromoRedemption  # noqa: F401
