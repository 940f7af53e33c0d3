"""The Django admin for customer data, built for tables of millions of rows.

What keeps it fast: no full COUNT(*) of a big table (EstimatedCountPaginator, no full result count,
no facets), searches that hit an index (exact ids, trigram indexes on names and email, a phone in
any notation turned into E.164 first), autocomplete instead of selects for customers, orders and
products, sorting only on indexed columns, and no date_hierarchy (it scans the whole table).

What keeps the data right: profile edits go through the customer services (so emails are
lower-cased, phones E.164 and the email/SMS identities follow), consent changes through
consent_set (so the append-only log is kept), and "delete" of a customer is a GDPR erase.
"""

from customers.admin import customer, data, segments  # noqa: F401  registers the admins
