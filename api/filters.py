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


class StrictFilterSet(django_filters.FilterSet):
    """A filter given with no value (`?status=`) is a 400 naming it, not silently no filter:
    the schema documents each filter's values, and an empty one is none of them."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                self.form.add_error(name, "must not be empty; leave the filter out instead")
        return valid and not self.form.errors
