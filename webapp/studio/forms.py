"""Forms of the pages. Validation is the services' (and SearchConfig's), shown next to each field."""
from __future__ import annotations

from archsearch.config import FAMILIES, ConfigError, SearchConfig
from django import forms

from webapp.teams.models import Team
from webapp.teams.roles import writable_teams

from . import services
from .models import Dataset
from .seeding import seed_source, seeds_for

DEFAULT_CLASSES = ("move_left", "move_right", "rotate_cw", "zoom_in")
FAMILY_LABELS = {"tvn": "Tiny Video Networks", "evanet": "EvaNet", "assemblenet": "AssembleNet"}


def motion_classes() -> tuple[str, ...]:
    from videomodels.data import MOTION_CLASSES as classes

    return tuple(classes)


class TeamFormMixin:
    """A team choice among the user's teams, hidden when there is only one."""

    def setup_team(self, user) -> None:
        self.user = user
        teams = writable_teams(user).order_by("name")  # a viewer's teams are not offered for changes
        field = self.fields["team"]
        field.queryset = teams
        if teams.count() == 1:
            field.initial = teams.first()
            field.widget = forms.HiddenInput()

    def apply_studio_error(self, error: services.StudioError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, str(error))


class DatasetFolderForm(TeamFormMixin, forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none())
    name = forms.CharField(max_length=100)
    source_path = forms.CharField(label="Folder on the server", max_length=1000,
                                  help_text="A folder with one sub-folder per class, or a CSV manifest (path,label).")
    frames = forms.IntegerField(initial=8, min_value=1, max_value=256, help_text="Frames per clip")
    size = forms.IntegerField(initial=32, min_value=8, max_value=512, help_text="Resolution in pixels")
    flow = forms.BooleanField(required=False, label="Compute optical flow", help_text="AssembleNet needs it")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_team(user)

    def save(self) -> Dataset | None:
        data = self.cleaned_data
        try:
            return services.register_dataset(team=data["team"], user=self.user, name=data["name"], kind=Dataset.Kind.FOLDER,
                                             source_path=data["source_path"], frames=data["frames"], size=data["size"],
                                             flow=data["flow"])
        except services.StudioError as error:
            self.apply_studio_error(error)
            return None


class DatasetSyntheticForm(TeamFormMixin, forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none())
    name = forms.CharField(max_length=100, initial="motion")
    clips_per_class = forms.IntegerField(initial=6, min_value=2, max_value=1000)
    classes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, initial=list(DEFAULT_CLASSES))
    frames = forms.IntegerField(initial=8, min_value=1, max_value=256, help_text="Frames per clip")
    size = forms.IntegerField(initial=32, min_value=8, max_value=512, help_text="Resolution in pixels")
    flow = forms.BooleanField(required=False, label="Compute optical flow", help_text="AssembleNet needs it")
    seed = forms.IntegerField(initial=0, min_value=0)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_team(user)
        self.fields["classes"].choices = [(c, c.replace("_", " ")) for c in motion_classes()]

    def save(self) -> Dataset | None:
        data = self.cleaned_data
        try:
            return services.register_dataset(team=data["team"], user=self.user, name=data["name"], kind=Dataset.Kind.SYNTHETIC,
                                             clips_per_class=data["clips_per_class"], classes=list(data["classes"]),
                                             frames=data["frames"], size=data["size"], flow=data["flow"], seed=data["seed"])
        except services.StudioError as error:
            self.apply_studio_error(error)
            return None


class IdsField(forms.ModelMultipleChoiceField):
    """Choices by id, where an id that is not a sane whole number is a form error (never a database error)."""

    def clean(self, value):
        for item in value or []:
            if not isinstance(item, str) or not item.isdigit() or len(item) > 18:
                raise forms.ValidationError("Choose among the listed versions.", code="invalid_choice")
        return super().clean(value)


class ExperimentForm(TeamFormMixin, forms.Form):
    defaults = SearchConfig(family="tvn")

    team = forms.ModelChoiceField(queryset=Team.objects.none())
    name = forms.CharField(max_length=200, required=False, help_text="Optional; e.g. 'tvn, 40 steps'")
    family = forms.ChoiceField(choices=[(f, FAMILY_LABELS.get(f, f)) for f in FAMILIES], initial="tvn")
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None)
    population = forms.IntegerField(initial=defaults.population, help_text="Candidates per generation")
    rounds = forms.IntegerField(initial=defaults.rounds, help_text="Generations after the first")
    latency_budget_ms = forms.FloatField(required=False, label="Latency budget (ms)",
                                         help_text="Children slower than this on the latency device are discarded before training")
    latency_device = forms.ChoiceField(
        choices=[("cpu", "CPU (1 thread)"), ("cuda", "GPU (a training worker's)")], initial=defaults.latency_device, required=False,
        label="Latency measured on",
        help_text="Where the model will run: latency at batch 1 is measured (and budgeted) there; "
                  "on the GPU synchronised, with the GPU alone while timing")
    seed = forms.IntegerField(initial=defaults.seed)
    low_steps = forms.IntegerField(initial=defaults.low_steps, label="Training steps", help_text="Every candidate")
    high_steps = forms.IntegerField(initial=defaults.high_steps, label="Steps for promising candidates",
                                    help_text="0: one fidelity only")
    batch_size = forms.IntegerField(initial=defaults.batch_size)
    parallelism = forms.IntegerField(initial=2, help_text="Candidates evaluated at once (one per worker)")
    num_threads = forms.IntegerField(initial=0, min_value=0, max_value=256, label="Training threads",
                                     help_text="Per candidate; 0 = automatic")
    precision = forms.ChoiceField(choices=[("fp32", "fp32"), ("bf16", "bf16 autocast"), ("fp16", "fp16 autocast + loss scaling")],
                                  initial=defaults.precision, required=False, label="Training precision (GPU)",
                                  help_text="Mixed precision did not train these networks faster on an H200; measure before choosing it")
    deterministic = forms.BooleanField(required=False, initial=defaults.deterministic, label="Bit-for-bit repeatable (GPU)",
                                       help_text="cuDNN's deterministic algorithms, no autotuning: 1.5-9x slower per step on a GPU")
    start_now = forms.BooleanField(required=False, initial=True, label="Start at once")
    seed_versions = IdsField(
        queryset=None, required=False, label="Seed with saved versions",
        help_text="Hand-edited architectures of the same family to put in the initial population (fitted to the data)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_team(user)
        source = seed_source()
        if source is None:  # no library installed: nothing to seed with
            del self.fields["seed_versions"]
        else:
            self.fields["seed_versions"].queryset = source.versions_for(user)
            self.fields["seed_versions"].label_from_instance = source.label
        datasets = Dataset.objects.for_user(user).order_by("-created")
        self.fields["dataset"].queryset = datasets
        ready = datasets.filter(status=Dataset.Status.READY).first()
        if ready:
            self.fields["dataset"].initial = ready
        self.config: SearchConfig | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = {key: data.get(key) for key in services.FORM_FIELDS}
        extra = {"num_threads": data["num_threads"]} if data.get("num_threads") is not None else {}
        extra.update({key: data[key] for key in ("latency_device", "precision") if data.get(key)})
        extra["deterministic"] = bool(data.get("deterministic"))
        try:
            self.config = services.build_config(data["family"], values, extra)
        except ConfigError as error:
            for field, messages in services.config_errors(error).items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return data
        try:
            services.check_launch(team=data["team"], dataset=data["dataset"], family=self.config.family,
                                  parallelism=data["parallelism"], config=self.config)
            versions = list(data.get("seed_versions") or [])
            if versions:
                self.config.seeds = seeds_for(self.user, versions, team=data["team"], dataset=data["dataset"], config=self.config)
        except services.StudioError as error:
            self.apply_studio_error(error)
        return data

    def save(self):
        data = self.cleaned_data
        try:
            return services.create_experiment(team=data["team"], user=self.user, name=data["name"], dataset=data["dataset"],
                                              config=self.config, parallelism=data["parallelism"], start=data["start_now"])
        except services.StudioError as error:  # e.g. the team's queue is full (max_queued_trainings)
            self.apply_studio_error(error)
            return None
