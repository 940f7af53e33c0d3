from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.promo.models import DEFAULT_ALPHABET, PromoPool
from campaigns.promo.services import GENERATE_MAX, promo_alphabet_clean

MAX_CSV_BYTES = 5 * 1024 * 1024


class PoolForm(forms.ModelForm):
    class Meta:
        model = PromoPool
        fields = [
            "name",
            "kind",
            "discount_description",
            "prefix",
            "code_length",
            "alphabet",
            "per_customer_limit",
            "valid_from",
            "valid_until",
            "low_stock_threshold",
        ]
        widgets = {
            "valid_from": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "valid_until": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        help_texts = {
            "discount_description": _("What the code gives, in the words message templates show."),
            "alphabet": _("Look-alike characters (0, O, 1, I, L) are left out."),
            "per_customer_limit": _(
                "Shared code only: how many orders one customer may use it for."
            ),
            "low_stock_threshold": _(
                "Below this many available codes, the workspace and the CRM are alerted."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alphabet"].initial = DEFAULT_ALPHABET
        self.fields["code_length"].min_value = 4
        self.fields["code_length"].max_value = 32
        self.fields["code_length"].widget.attrs.update(min=4, max=32)

    def clean_alphabet(self):
        alphabet = promo_alphabet_clean(self.cleaned_data.get("alphabet") or DEFAULT_ALPHABET)
        if len(alphabet) < 4:
            raise forms.ValidationError(_("Give at least four different letters or digits."))
        return alphabet

    def clean_code_length(self):
        length = self.cleaned_data["code_length"]
        if not 4 <= length <= 32:
            raise forms.ValidationError(_("Between 4 and 32 characters."))
        return length

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must come after the start."))
        return data


class GenerateForm(forms.Form):
    count = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=GENERATE_MAX)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("One code per line, in the first column; up to 5 MB.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from error


class CodeFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        from campaigns.promo.models import PromoCodeStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All")), *PromoCodeStatus.choices]
        self.fields["status"].widget.attrs["data-autosubmit"] = ""


class PoolEditForm(PoolForm):
    """The pool form without the kind: unique and shared pools hold different codes."""

    class Meta(PoolForm.Meta):
        fields = [f for f in PoolForm.Meta.fields if f != "kind"]
