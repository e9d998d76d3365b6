"""The API of evaluation jobs (/api/evaluations/) and of adding a saved version to a running search
(/api/experiments/<id>/inject/).

Team-scoped like the rest: another team's evaluation, version or dataset is "does not exist".
"""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apikit.params import int_param
from webapp.studio.api import CandidateDetailSerializer
from webapp.studio.api_common import api_error
from webapp.studio.models import Dataset, Experiment
from webapp.studio.services import TransitionError
from webapp.teams.roles import require

from . import jobs
from .evaluations import Evaluation
from .api import ScopedField
from .models import ArchitectureVersion


class EvaluationSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = Evaluation
        fields = ["id", "version", "dataset", "created_by", "status", "steps", "batch_size", "seed", "notes", "step", "accuracy",
                  "latency_ms", "params", "macs", "metrics", "edge_weights", "seconds", "reason", "attempt", "created",
                  "started_at", "finished_at"]
        read_only_fields = fields


class EvaluationDetailSerializer(EvaluationSerializer):
    class Meta(EvaluationSerializer.Meta):
        fields = EvaluationSerializer.Meta.fields + ["spec", "losses"]
        read_only_fields = fields


class EvaluationCreateSerializer(serializers.Serializer):
    version = ScopedField(ArchitectureVersion, help_text="the version to train (of one of your teams)")
    dataset = ScopedField(Dataset, help_text="a ready dataset of the version's team")
    # Ranges are checked by the search settings' validation (the same limits as a launch).
    steps = serializers.IntegerField(default=40, help_text="optimizer steps")
    batch_size = serializers.IntegerField(default=16)
    seed = serializers.IntegerField(default=0)


@extend_schema(parameters=[OpenApiParameter("version", OpenApiTypes.INT, description="only this version's")])
class EvaluationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Train and score a version on a dataset, as a job on the `train` queue; live at /ws/evaluations/<id>/."""

    queryset = Evaluation.objects.none()  # for the schema; get_queryset scopes to the user's teams
    role_actions = {"create": "train"}  # in the version's team (jobs.create_evaluation decides)

    def get_serializer_class(self):
        return EvaluationDetailSerializer if self.action == "retrieve" else EvaluationSerializer

    def get_queryset(self):
        queryset = Evaluation.objects.for_user(self.request.user).select_related("created_by")
        version = int_param(self.request, "version")
        if version is not None:
            queryset = queryset.filter(version_id=version)
        return queryset.order_by("-created", "-pk")

    @extend_schema(request=EvaluationCreateSerializer, responses={201: EvaluationDetailSerializer})
    def create(self, request, *args, **kwargs):
        form = EvaluationCreateSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            evaluation = jobs.create_evaluation(user=request.user, version=data["version"], dataset=data["dataset"],
                                                steps=data["steps"], batch_size=data["batch_size"], seed=data["seed"])
        except jobs.BudgetError as error:
            raise ValidationError(error.errors) from None
        except jobs.StudioError as error:
            raise api_error(error) from None
        return Response(EvaluationDetailSerializer(evaluation).data, status=status.HTTP_201_CREATED)


class InjectSerializer(serializers.Serializer):
    version = ScopedField(ArchitectureVersion, help_text="the version to add to the search as a hand-made candidate")


class InjectView(APIView):
    role_actions = {"POST": "train"}  # in the search's team: viewers 403, outsiders 404

    @extend_schema(request=InjectSerializer, responses={201: CandidateDetailSerializer})
    def post(self, request, pk: int):
        """Add a saved version to this running search as a hand-made candidate (trained and scored like any other)."""
        experiment = Experiment.objects.for_user(request.user).filter(pk=min(pk, 2**62)).first()
        if experiment is None:
            raise Http404("No such experiment.")
        require(request.user, "train", experiment)
        form = InjectSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        try:
            candidate = jobs.inject_version(user=request.user, experiment_id=experiment.pk, version=form.validated_data["version"])
        except TransitionError as error:
            return Response({"detail": str(error), "status": experiment.status}, status=status.HTTP_409_CONFLICT)
        except jobs.StudioError as error:
            raise api_error(error) from None
        return Response(CandidateDetailSerializer(candidate).data, status=status.HTTP_201_CREATED)
