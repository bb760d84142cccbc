"""The portal's forms render through templates/django/forms/: every field labelled, hints and errors tied."""

import re

from django import forms
from django.utils import translation


class SampleForm(forms.Form):
    name = forms.CharField(label="Назва закладу", help_text="Як у ЄДР.")
    site = forms.URLField(label="Сайт", required=False, assume_scheme="https")
    kind = forms.ChoiceField(label="Тип", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    agree = forms.BooleanField(label="Погоджуюся")

    def clean(self):
        raise forms.ValidationError("Заклад із такою назвою вже зареєстровано.")


def render(data=None) -> str:
    with translation.override("uk"):
        return str(SampleForm(data))


def test_unbound_form_has_a_label_for_every_input_and_a_tied_hint():
    html = render()
    assert '<label for="id_name">' in html
    assert '<div class="helptext" id="id_name_helptext">Як у ЄДР.</div>' in html
    assert re.search(r'<input[^>]*name="name"[^>]*aria-describedby="id_name_helptext"', html)
    assert re.search(r'<label for="id_site">\s*Сайт <span class="optional">\(необов’язково\)</span>', html)
    assert "<legend>" in html and "Тип" in html  # a radio group is a fieldset with a legend
    assert re.search(r'<input type="checkbox" name="agree"[^>]*id="id_agree">\s*<label for="id_agree">', html)
    assert "error-summary" not in html
    assert ":</label>" not in html  # no label suffix


def test_errors_sit_next_to_their_field_and_in_a_summary():
    html = render({"name": "", "site": "not a url", "kind": "", "agree": ""})
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert "Виникла проблема" in summary
    assert 'href="#id_name"' in summary and 'href="#id_site"' in summary
    for name in ("name", "site", "agree"):
        assert f'<ul class="errorlist" id="id_{name}_error">' in html
        assert re.search(rf'<input[^>]*name="{name}"[^>]*aria-invalid="true"', html)
        assert re.search(rf'<input[^>]*name="{name}"[^>]*aria-describedby="[^"]*id_{name}_error', html)
    # Hint first, then the error: both announced with the field.
    assert re.search(r'aria-describedby="id_name_helptext id_name_error"', html)
    assert re.search(r'<fieldset aria-describedby="id_kind_error">', html)
    assert 'class="field field-error' in html


def test_form_level_errors_are_in_the_summary():
    html = render({"name": "Клініка", "kind": "a", "agree": "on"})
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert '<ul class="errorlist nonfield">' in summary
    assert "Заклад із такою назвою вже зареєстровано." in summary
