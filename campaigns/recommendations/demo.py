"""Demo data for recommendations: shop links for the demo catalogue, then everyone's picks."""

from django.db.models import Value
from django.db.models.functions import Concat

from campaigns.recommendations.services import RefreshResult, recommendations_refresh
from customers.models import Product

DEMO_SHOP = "https://shop.example.com"


def recommendations_demo_load() -> RefreshResult:
    """Give demo products without a page one on the example shop, and compute every pick.

    Run after load_demo_data; running it again recomputes (nothing is duplicated).
    """
    Product.objects.filter(url="").update(url=Concat(Value(f"{DEMO_SHOP}/p/"), "sku"))
    Product.objects.filter(image_url="").update(
        image_url=Concat(Value(f"{DEMO_SHOP}/img/"), "sku", Value(".jpg"))
    )
    return recommendations_refresh()
