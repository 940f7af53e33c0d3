"""Demo data for `make run`: a shop's customers, their behaviour and 18 months of orders.

Everything is written through the same batch services the API uses, so demo data is validated
like data from a CRM. One seeded generator drives all choices and dates are laid out backwards
from the start of the current UTC day, so a load on the same day gives the same data.

Emails use the reserved example.* domains and US phones the fictional 555-01xx range, so a
misconfigured provider cannot reach a real person there. Russian and UK mobiles have no fictional
range that passes validation; they are random valid numbers.
"""

from customers.demo.generator import demo_data_generate
from customers.demo.loader import demo_data_load
from customers.demo.login import demo_login_ensure
from customers.demo.reference import DEFAULT_CUSTOMERS, DEMO_PREFIX

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEMO_PREFIX",
    "demo_data_generate",
    "demo_data_load",
    "demo_login_ensure",
]
