"""django-filter types shared by every list endpoint."""

import django_filters
from django import forms

from api.types import check_datetime


class UtcIsoDateTimeField(forms.DateTimeField):
    """ISO 8601 with an offset, normalised to UTC and within range (see api.types)."""

    def to_python(self, value):
        moment = django_filters.fields.IsoDateTimeField().to_python(value)
        if moment is None:
            return None
        try:
            return check_datetime(moment)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
