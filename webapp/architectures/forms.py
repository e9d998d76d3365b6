"""The library page's import form (paste or upload); the editor itself talks to the API."""
from __future__ import annotations

from django import forms

from webapp.teams.models import Team
from webapp.teams.roles import writable_teams

from . import services


class ImportForm(forms.Form):
    FORMAT_CHOICES = [("auto", "Detect"), ("archspec", "ArchSpec JSON"), ("assemblenet", "AssembleNet structure (+ weights)"),
                      ("evanet", "EvaNet DNA"), ("tvn", "TVN dict")]

    name = forms.CharField(max_length=200, required=False)
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="auto")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label=None)
    config = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}), required=False,
                             help_text="Paste the JSON here, or upload a file.")
    file = forms.FileField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].queryset = writable_teams(user).order_by("name")
        self.problems = []

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        try:
            if upload is not None:
                if upload.size > services.MAX_BODY_BYTES:
                    raise forms.ValidationError({"file": f"Too large: {upload.size:,} bytes (at most {services.MAX_BODY_BYTES:,})."})
                cleaned["data"] = services.parse_json(upload.read(), where="file")
            elif cleaned.get("config", "").strip():
                cleaned["data"] = services.parse_json(cleaned["config"], where="config")
            else:
                raise forms.ValidationError({"config": "Paste a config or upload a file."})
        except services.SpecRejected as error:
            self.problems = error.problems
            raise forms.ValidationError({"config": str(error.problems[0])}) from None
        return cleaned

    def save(self):
        data = self.cleaned_data
        try:
            spec = services.import_config(data["data"], fmt=data["format"], name=data.get("name", ""))
            fmt = services.detect_format(data["data"]) if data["format"] == "auto" else data["format"]
            note = fmt + (f", {data['file'].name}" if data.get("file") else "")
            return services.create_architecture(user=self.user, team=data.get("team"), name=data.get("name") or spec.name,
                                                spec=spec.to_dict(), message=f"imported ({fmt})", origin="imported", note=note)
        except services.SpecRejected as error:
            self.problems = error.problems
            self.add_error("config", str(error.problems[0]))
        except services.StudioError as error:
            self.add_error(error.field if error.field in self.fields else None, str(error))
        return None
