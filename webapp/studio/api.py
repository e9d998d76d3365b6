"""The JSON API (Django REST framework): datasets, experiments, candidates, events.

Everything is scoped to the teams of the signed-in user: another team's objects are 404,
anonymous requests 401. Bad input is a 400 with field errors; a status change that the
experiment's status does not allow is a 409. The OpenAPI schema is at /api/schema/.
"""
from __future__ import annotations

from archsearch.config import FAMILIES, ConfigError
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apikit.bodies import StrictBooleanField
from webapp.apikit.listing import api_filtered, api_parameters
from webapp.apikit.params import int_param
from webapp.teams.models import Membership, Team

from . import figures, services
from .api_common import RenameDeleteMixin, TeamField, api_error
from .models import Candidate, Dataset, Event, Experiment
from .outcomes import parallelism_note
from .seeding import seed_source, seeds_for


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "webapp.studio.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# ---------------------------------------------------------------------- teams
class TeamSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField(help_text="fair use of the workers: max_steps, max_batch_size, "
                                                         "max_queued_trainings, max_active_exports")
    usage = serializers.SerializerMethodField(help_text="what the team holds now: queued_trainings")

    class Meta:
        model = Team
        fields = ["id", "name", "role", "limits", "usage"]

    def get_role(self, team) -> str | None:
        user = self.context["request"].user
        return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()

    def get_limits(self, team) -> dict:
        return services.limits_of(team)

    def get_usage(self, team) -> dict:
        return services.usage_of(team)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Team.objects.none()  # for the schema; get_queryset scopes to the user's teams
    serializer_class = TeamSerializer

    def get_queryset(self):
        return services.teams_of(self.request.user).order_by("name")


# ---------------------------------------------------------------------- datasets
class DatasetSerializer(serializers.ModelSerializer):
    team = TeamField(required=False)
    classes = serializers.ListField(child=serializers.CharField(), source="synthetic_classes", required=False,
                                    help_text="Motion classes to generate (synthetic only); default: all")
    clips_per_class = serializers.IntegerField(required=False, allow_null=True)
    bad_files = serializers.ListField(child=serializers.DictField(), read_only=True)
    flow = StrictBooleanField(required=False, help_text="compute optical flow (AssembleNet needs it)")
    preparation = serializers.SerializerMethodField(help_text="the latest preparation job: stage, progress, attempt, reason")

    class Meta:
        model = Dataset
        fields = ["id", "team", "name", "kind", "source_path", "status", "frames", "size", "flow", "clips_per_class", "classes",
                  "seed", "cache_path", "has_flow", "num_classes", "class_names", "report", "bad_files", "error", "preparation",
                  "created", "updated"]
        read_only_fields = ["status", "cache_path", "has_flow", "num_classes", "class_names", "report", "error", "created", "updated"]
        # The per-team name check is the service's, with a clearer message.
        validators = []

    def get_preparation(self, dataset) -> dict | None:
        job = dataset.preparation
        if job is None:
            return None
        return {"status": job.status, "stage": job.stage, "progress": round(job.progress, 3), "attempt": job.attempt,
                "reason": job.reason}

    def validate(self, attrs):
        try:
            attrs["team"] = services.team_for(self.context["request"].user, attrs.get("team"))
        except services.StudioError as error:
            raise api_error(error) from None
        return attrs

    def create(self, validated):
        try:
            return services.register_dataset(
                team=validated["team"], user=self.context["request"].user, name=validated.get("name", ""),
                kind=validated.get("kind", ""), source_path=validated.get("source_path", ""), frames=validated.get("frames", 8),
                size=validated.get("size", 32), flow=validated.get("flow", False), clips_per_class=validated.get("clips_per_class"),
                classes=validated.get("synthetic_classes"), seed=validated.get("seed", 0))
        except services.StudioError as error:
            raise api_error(error) from None


DATASET_FILTERS = {"status": Dataset.Status.values, "kind": Dataset.Kind.values}
EXPERIMENT_FILTERS = {"status": Experiment.Status.values, "family": list(FAMILIES)}


@extend_schema_view(list=extend_schema(parameters=api_parameters(choices=DATASET_FILTERS)))
class DatasetViewSet(RenameDeleteMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Dataset.objects.none()  # for the schema; get_queryset scopes to the user's teams
    serializer_class = DatasetSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def rename_with(self, user, dataset, name):
        return services.rename_dataset(user=user, dataset=dataset, name=name)

    def delete_with(self, user, dataset):
        return services.delete_dataset(user=user, dataset=dataset)

    def removal_of(self, dataset):
        return services.dataset_removal(dataset)

    def get_queryset(self):
        datasets = Dataset.objects.for_user(self.request.user).select_related("team").prefetch_related("preparations")
        return api_filtered(self.request, datasets, choices=DATASET_FILTERS) if self.action == "list" else datasets


# ---------------------------------------------------------------------- experiments
@extend_schema_field(OpenApiTypes.INT)
class SeedVersionField(serializers.PrimaryKeyRelatedField):
    """A saved version of one of the user's teams, from the registered seed source (webapp.studio.seeding)."""

    def get_queryset(self):
        source, request = seed_source(), self.context.get("request")
        if source is None:
            raise ValidationError("Seeding with saved versions needs the architecture library, which is not installed.")
        return source.versions_for(request.user if request else AnonymousUser())

GENERATION_HELP = "counted from 1: generation 1 is the first population, as every page shows it"


class GenerationField(serializers.IntegerField):
    """The engine counts generations from 0; people, pages and this API from 1."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, help_text=GENERATION_HELP, **kwargs)

    def to_representation(self, value):
        return figures.generation(value)


class CandidateBriefSerializer(serializers.ModelSerializer):
    generation = GenerationField()

    class Meta:
        model = Candidate
        fields = ["id", "name", "accuracy", "latency_ms", "latency_device", "params", "generation"]


class ExperimentSerializer(serializers.ModelSerializer):
    team = TeamField(required=False)
    dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.none())
    family = serializers.ChoiceField(choices=FAMILIES)
    progress = serializers.SerializerMethodField(help_text="evaluated, total, fraction, generation (" + GENERATION_HELP
                                                       + ") of generations, running_seconds, eta_seconds")
    best = CandidateBriefSerializer(source="best_candidate", read_only=True, allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True,
                                     help_text="What to know about the launch, e.g. a latency budget out of reach")
    # Launch settings (write-only; the stored SearchConfig is `config`).
    population = serializers.IntegerField(write_only=True, required=False)
    rounds = serializers.IntegerField(write_only=True, required=False)
    latency_budget_ms = serializers.FloatField(write_only=True, required=False, allow_null=True)
    seed = serializers.IntegerField(write_only=True, required=False)
    low_steps = serializers.IntegerField(write_only=True, required=False)
    high_steps = serializers.IntegerField(write_only=True, required=False)
    batch_size = serializers.IntegerField(write_only=True, required=False)
    settings = serializers.DictField(write_only=True, required=False,
                                     help_text="Any other archsearch SearchConfig setting, e.g. objective, tournament_size, lr, "
                                               "num_threads, latency_device ('cpu' or 'cuda': where latency is measured and "
                                               "budgeted), deterministic (bit-for-bit repeatable GPU training, slower), "
                                               "precision ('fp32', 'bf16', 'fp16')")
    notice = serializers.SerializerMethodField(help_text="On launch: why its candidates may wait (no training worker running), or ''")
    start = StrictBooleanField(write_only=True, default=True, help_text="Start at once (else it waits as queued)")
    seed_versions = serializers.ListField(child=SeedVersionField(), write_only=True, required=False, max_length=64,
                                          help_text="saved versions (ids) to put in the initial population (hand-edited lineage)")

    class Meta:
        model = Experiment
        fields = ["id", "team", "name", "family", "dataset", "status", "outcome", "warnings", "notice", "parallelism", "config", "progress",
                  "best", "summary", "error", "last_seq", "created", "started_at", "finished_at",
                  "population", "rounds", "latency_budget_ms", "seed", "low_steps", "high_steps", "batch_size", "settings", "start", "seed_versions"]
        read_only_fields = ["status", "outcome", "warnings", "config", "summary", "error", "last_seq", "created", "started_at",
                            "finished_at"]
        extra_kwargs = {"name": {"required": False, "allow_blank": True}, "parallelism": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["dataset"].queryset = Dataset.objects.for_user(request.user)

    def get_notice(self, experiment) -> str:
        if not self.context.get("launching"):
            return ""
        return parallelism_note(experiment.parallelism, services.train_workers() or 0)

    def get_progress(self, experiment) -> dict:
        return experiment.progress(getattr(experiment, "evaluated_count", None))

    def validate(self, attrs):
        try:
            team = services.team_for(self.context["request"].user, attrs.get("team"))
        except services.StudioError as error:
            raise api_error(error) from None
        values = {key: attrs[key] for key in services.FORM_FIELDS if key in attrs}
        try:
            config = services.build_config(attrs["family"], values, attrs.get("settings"))
        except ConfigError as error:
            raise ValidationError(services.config_errors(error)) from None
        except TypeError as error:
            raise ValidationError({"settings": [str(error)]}) from None
        try:
            services.check_launch(team=team, dataset=attrs["dataset"], family=config.family,
                                  parallelism=attrs.get("parallelism", 2), config=config)
            if attrs.get("seed_versions"):
                config.seeds = seeds_for(self.context["request"].user, attrs["seed_versions"], team=team, dataset=attrs["dataset"],
                                         config=config)
                config.validate()
        except services.StudioError as error:
            raise api_error(error) from None
        return {"team": team, "config": config, "dataset": attrs["dataset"], "name": attrs.get("name", ""),
                "parallelism": attrs.get("parallelism", 2), "start": attrs.get("start", True)}

    def create(self, validated):
        try:
            return services.create_experiment(user=self.context["request"].user, **validated)
        except services.StudioError as error:  # a fair-use limit reached since the checks (429)
            raise api_error(error) from None


def with_counts(queryset):
    return queryset.annotate(evaluated_count=Count("candidates", filter=Q(candidates__status=Candidate.Status.EVALUATED)))


@extend_schema_view(list=extend_schema(parameters=api_parameters(choices=EXPERIMENT_FILTERS, ids=("dataset",))))
class ExperimentViewSet(RenameDeleteMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Experiment.objects.none()  # for the schema; get_queryset scopes to the user's teams
    serializer_class = ExperimentSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def rename_with(self, user, experiment, name):
        return services.rename_experiment(user=user, experiment=experiment, name=name)

    def delete_with(self, user, experiment):
        return services.delete_experiment(user=user, experiment=experiment)

    def removal_of(self, experiment):
        return services.experiment_removal(experiment)
    # start, stop, resume, cancel: "change" (webapp.teams.roles); adding a version to a running search is the
    # library's (webapp.architectures.jobs_api.InjectView, at experiments/<id>/inject/).

    def get_queryset(self):
        experiments = Experiment.objects.for_user(self.request.user).select_related("team", "dataset", "best_candidate")
        if self.action == "list":
            experiments = api_filtered(self.request, experiments, choices=EXPERIMENT_FILTERS, ids=("dataset",),
                                       lookups={"dataset": "dataset_id"})
        return with_counts(experiments).newest_first()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "launching": self.action == "create"}

    def _transition(self, change):
        experiment = self.get_object()
        try:
            change(experiment.pk)
        except services.TransitionError as error:
            return Response({"detail": str(error), "status": experiment.status}, status=status.HTTP_409_CONFLICT)
        except services.StudioError as error:  # a fair-use limit of the team (429)
            raise api_error(error) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=experiment.pk)).data)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start a queued experiment."""
        return self._transition(services.start_experiment)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop a running experiment; candidates in training are interrupted and train again on resume."""
        return self._transition(services.stop_experiment)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume a stopped (or failed) experiment where it was."""
        return self._transition(services.resume_experiment)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an experiment for good."""
        return self._transition(services.cancel_experiment)


# ---------------------------------------------------------------------- candidates
class CandidateSerializer(serializers.ModelSerializer):
    generation = GenerationField()
    parent_name = serializers.CharField(source="parent.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Candidate
        fields = ["id", "experiment", "index", "name", "generation", "parent", "parent_name", "mutation", "status", "accuracy",
                  "low_accuracy", "latency_ms", "latency_device", "latency_hardware", "latency_spread", "params", "macs", "fidelity", "seconds",
                  "reason", "attempt", "created", "started_at", "finished_at"]


class CandidateDetailSerializer(CandidateSerializer):
    lineage = serializers.SerializerMethodField(help_text="This candidate and its ancestors, nearest first")

    class Meta(CandidateSerializer.Meta):
        fields = CandidateSerializer.Meta.fields + ["spec", "spec_hash", "mutation_details", "metrics", "edge_weights", "lineage"]

    def get_lineage(self, candidate) -> list[dict]:
        return [{"id": c.pk, "name": c.name, "mutation": c.mutation, "accuracy": c.accuracy,
                 "generation": figures.generation(c.generation)}
                for c in candidate.lineage()]


filter_params = [
    OpenApiParameter("experiment", OpenApiTypes.INT, description="only this experiment's"),
    OpenApiParameter("status", OpenApiTypes.STR, description="only candidates with this status"),
]


@extend_schema(parameters=filter_params)
class CandidateViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Candidate.objects.none()  # for the schema; get_queryset scopes to the user's teams
    def get_serializer_class(self):
        return CandidateDetailSerializer if self.action == "retrieve" else CandidateSerializer

    def get_queryset(self):
        queryset = Candidate.objects.for_user(self.request.user).select_related("parent")
        experiment = int_param(self.request, "experiment")
        if experiment is not None:
            queryset = queryset.filter(experiment_id=experiment)
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in Candidate.Status.values:
                raise ValidationError({"status": [f"Must be one of {', '.join(Candidate.Status.values)}."]})
            queryset = queryset.filter(status=wanted)
        return queryset.order_by("experiment_id", "index")


# ---------------------------------------------------------------------- events
class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["seq", "type", "payload", "created"]


@extend_schema(parameters=[
    OpenApiParameter("experiment", OpenApiTypes.INT, required=True, description="the experiment whose events to list"),
    OpenApiParameter("after", OpenApiTypes.INT, description="only events with a larger seq (what a client already has)"),
])
class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Event.objects.none()  # for the schema; get_queryset scopes to the user's teams
    serializer_class = EventSerializer

    def get_queryset(self):
        experiment_id = int_param(self.request, "experiment", required=True)
        after = int_param(self.request, "after") or 0
        experiment = Experiment.objects.for_user(self.request.user).filter(pk=experiment_id).first()
        if experiment is None:
            raise Http404("No such experiment.")
        return Event.objects.filter(experiment=experiment, seq__gt=after).order_by("seq")


# ---------------------------------------------------------------------- workers
class WorkerTaskSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="candidate or evaluation")
    id = serializers.IntegerField(required=False, help_text="absent when it is another team's work")
    label = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    since = serializers.CharField()


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField()
    host = serializers.CharField()
    pid = serializers.IntegerField()
    queues = serializers.ListField(child=serializers.CharField())
    trains = serializers.BooleanField(help_text="it serves the train queue")
    device = serializers.DictField(help_text="kind (cpu or cuda), label, and for a GPU: gpu, name, memory_share")
    busy = serializers.BooleanField()
    task = WorkerTaskSerializer(allow_null=True, help_text="what it trains now")
    tasks_done = serializers.IntegerField()
    started = serializers.CharField()
    beat = serializers.CharField(help_text="when it last reported")
    age_s = serializers.FloatField(help_text="seconds since it last reported")
    silent = serializers.BooleanField(help_text="it missed several reports (stuck, or stopped a moment ago)")


class WorkerListSerializer(serializers.Serializer):
    workers = WorkerSerializer(many=True)
    train_workers = serializers.IntegerField()
    gpu_train_workers = serializers.IntegerField()
    known = serializers.BooleanField(help_text="false when the workers' records could not be read (Redis down)")
    problem = serializers.CharField(allow_blank=True)


class WorkersView(APIView):
    serializer_class = WorkerListSerializer

    @extend_schema(responses=WorkerListSerializer)
    def get(self, request):
        """The Celery workers as they report themselves every few seconds: host, device (CPU or which
        GPU), busy or idle, what each trains (only your teams' work is named) and the last report."""
        return Response(services.workers_overview(request.user))

