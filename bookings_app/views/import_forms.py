"""The participant import's forms: the column mapping (one choice per column of the file, and
whether new customers may be added) and the commit (the form's token and the dry run it read)."""

from __future__ import annotations

from typing import Any

from django import forms

from bookings_app.forms import KEY_RE
from bookings_app.services.imports.mapping import FIELDS
from bookings_app.services.imports.sheet import column_letter

NOT_IMPORTED = ""
FIELD_CHOICES = [(NOT_IMPORTED, "— not imported —"), *((f.name, f.label) for f in FIELDS)]


class MappingForm(forms.Form):
    """``col-<i>``: the field column i holds. ``clean`` gives ``mapping`` (field → column index);
    the rules of a mapping (a name column, a session column …) are the service's."""

    allow_new_contacts = forms.BooleanField(required=False)

    def __init__(self, *args: Any, headers: list[str], mapping: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        by_index = {index: name for name, index in mapping.items()}
        for index, header in enumerate(headers):
            self.fields[f"col-{index}"] = forms.ChoiceField(
                choices=FIELD_CHOICES,
                required=False,
                initial=by_index.get(index, NOT_IMPORTED),
                label=f"Column {column_letter(index)} “{header}”" if header else f"Column {column_letter(index)}",
                error_messages={"invalid_choice": "Choose what this column holds."},
            )

    def column_fields(self) -> list[tuple[int, forms.BoundField]]:
        return [(i, self[f"col-{i}"]) for i in range(len(self.headers))]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mapping: dict[str, int] = {}
        for index in range(len(self.headers)):
            name = data.get(f"col-{index}") or NOT_IMPORTED
            if name == NOT_IMPORTED:
                continue
            if name in mapping:
                first = mapping[name]
                label = dict(FIELD_CHOICES)[name]
                self.add_error(
                    f"col-{index}",
                    f"Column {column_letter(first)} is {label} already: choose one of the two.",
                )
                continue
            mapping[name] = index
        data["mapping"] = mapping
        return data


class CommitForm(forms.Form):
    idempotency_key = forms.RegexField(
        regex=KEY_RE, error_messages={"required": "This form has expired.", "invalid": "This form has expired."}
    )
    plan_digest = forms.CharField(max_length=64)
