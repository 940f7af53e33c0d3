"""The rule checker's messages (customers.segments.rules.validation, in English for the API) in
the staff member's language. Each known message is matched by a pattern whose groups are kept as
they are (names, values, lists of allowed words); an unknown message is shown as it is."""

import re

from django.utils.translation import gettext_lazy as _

_PATTERNS = [
    (r"rules nest at most (?P<n>\d+) levels deep", _("rules nest at most %(n)s levels deep")),
    (r"must be an object, such as .*", _("must be a rule object")),
    (r"must be a list of rules", _("must be a list of rules")),
    (r"needs at least one rule", _("needs at least one rule")),
    (r"unknown key; (?P<rest>.*)", _("unknown key; %(rest)s")),
    (r"must be a field name", _("must be a field name")),
    (
        r"'(?P<name>.*)' is not a defined attribute; staff define attributes in the admin",
        _("“%(name)s” is not a defined attribute; admins define attributes"),
    ),
    (r"is required", _("is required")),
    (r"unknown operator (?P<op>.*); use one of: (?P<ops>.*)", _("unknown operator %(op)s")),
    (
        r"'(?P<op>[a-z_]+)' does not apply to (?P<name>[^,]+), .*",
        _("this operator does not apply to %(name)s"),
    ),
    (r"'(?P<op>[a-z_]+)' takes no value", _("this operator takes no value")),
    (r"must be a non-empty string", _("must not be empty")),
    (r"must be a string", _("must be text")),
    (r"must be at most (?P<n>\d+) characters", _("must be at most %(n)s characters")),
    (r"must be one of: (?P<values>.*)", _("must be one of: %(values)s")),
    (r"must be a number", _("must be a number")),
    (r"must be true or false", _("must be yes or no")),
    (r"must be a date as YYYY-MM-DD", _("must be a date as YYYY-MM-DD")),
    (
        r"must be a date \(YYYY-MM-DD\) or a date-time .*",
        _("must be a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM:SSZ)"),
    ),
    (r"must be a non-empty list", _("give at least one value")),
    (r"must have at most (?P<n>\d+) items", _("must have at most %(n)s values")),
    (r"must be a list of two values \[low, high\]", _("give both ends of the range")),
    (r"low must not be greater than high", _("the start must not be greater than the end")),
    (
        r"must be a whole number from (?P<low>\d+) to (?P<high>\d+)",
        _("must be a whole number from %(low)s to %(high)s"),
    ),
    (r"must be a number, 0 or more", _("must be a number, 0 or more")),
    (r"must be a number from 0 to 1", _("must be a number from 0 to 1")),
    (r"must be an object such as .*", _("choose a comparison")),
    (r"unknown comparison; .*", _("unknown comparison")),
    (r"unknown channel (?P<value>.*); use one of: .*", _("unknown channel %(value)s")),
    (r"give either within_days or between, not both", _("give either days or dates, not both")),
    (
        r"unknown consent status (?P<value>.*); use one of: .*",
        _("unknown consent status %(value)s"),
    ),
    (r"unknown RFM segment (?P<value>.*); use one of: .*", _("unknown RFM segment %(value)s")),
    (r"must be a list of property filters", _("must be a list of property filters")),
    (
        r"property names containing '__' cannot be used",
        _("property names containing “__” cannot be used"),
    ),
    (r"must be a string, a number, or true/false", _("must be text, a number or yes/no")),
    (r"must be a number or a string", _("must be a number or text")),
    (
        r"needs at least one of: count, sum, average",
        _("choose at least one of: number of orders, total, average"),
    ),
    (r"needs exactly one of: sku, category", _("give SKUs or categories")),
    (r"needs at least one of: historic_revenue, .*", _("choose at least one value to compare")),
    (r"must be a segment id \(a whole number\)", _("choose a segment")),
    (r"segment (?P<id>\d+) does not exist", _("segment %(id)s does not exist")),
    (r"a segment cannot refer to itself", _("a segment cannot refer to itself")),
    (
        r"segment (?P<id>\d+) refers back to this segment \((?P<chain>.*)\), a cycle",
        _("segment %(id)s refers back to this segment (%(chain)s)"),
    ),
    (
        r"attributes whose key contains '__' cannot be used in rules",
        _("attributes whose key contains “__” cannot be used in rules"),
    ),
    (r"unknown field '(?P<name>.*)'; .*", _("unknown field “%(name)s”")),
    (r"must have exactly one key .*", _("must hold exactly one condition or group")),
    (r"unknown rule kind '(?P<name>.*)'; .*", _("unknown kind of condition “%(name)s”")),
]
_COMPILED = [(re.compile(f"^{pattern}$"), message) for pattern, message in _PATTERNS]


def rule_message(message: str) -> str:
    """The rule checker's message, translated when it is a known one."""
    for pattern, translated in _COMPILED:
        match = pattern.match(message)
        if match:
            return str(translated) % match.groupdict()
    return message
