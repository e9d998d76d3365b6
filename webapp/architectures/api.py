"""The library's JSON API: architectures, versions, import/export, presets, node types, analyze.

Scoped like the studio's API: another team's objects are 404, anonymous requests 401.
A spec that cannot be saved is a 400 whose ``problems`` carry the validator's locations
(``nodes[3].attrs.temporal_kernel``, ``edges[5]``); an oversized body is a 413.
"""
from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view,
                                   inline_serializer)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apikit.listing import api_filtered, api_parameters
from webapp.apikit.bodies import StrictBooleanField, body_object
from webapp.studio.api_common import RenameDeleteMixin, TeamField, api_error
from webapp.studio.models import Candidate

from . import catalog, services
from .analysis import analyze_data
from .latency import editor_latency_model
from .models import Architecture, ArchitectureVersion
from .parsers import BodyLimit, SafeJSONParser, problems_payload


def error_response(error: services.StudioError):
    if isinstance(error, services.SpecRejected):
        return ValidationError({error.field: [str(p) for p in error.problems], **problems_payload(error.problems)})
    return api_error(error)


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """A related object the requesting user may see (another team's is "does not exist")."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.for_user(request.user) if request else self.model.objects.none()


SPEC_HELP = "an ArchSpec object (format archspec/1: family, inputs, nodes, edges)"


# ---------------------------------------------------------------------- serializers
class VersionBriefSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None)

    class Meta:
        model = ArchitectureVersion
        fields = ["id", "architecture", "number", "spec_hash", "parent", "author", "message", "params", "macs", "created"]
        read_only_fields = fields


class VersionSerializer(VersionBriefSerializer):
    class Meta(VersionBriefSerializer.Meta):
        fields = VersionBriefSerializer.Meta.fields + ["spec"]
        read_only_fields = fields


class ArchitectureSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    origin_text = serializers.CharField(read_only=True)
    latest = serializers.SerializerMethodField()

    class Meta:
        model = Architecture
        fields = ["id", "team", "name", "family", "origin", "origin_text", "origin_preset", "origin_candidate", "origin_version",
                  "origin_note", "created_by", "created", "updated", "latest"]
        read_only_fields = [f for f in fields if f != "name"]

    @extend_schema_field(VersionBriefSerializer(allow_null=True))
    def get_latest(self, architecture) -> dict | None:
        version = architecture.latest_version()
        return VersionBriefSerializer(version).data if version else None


class ArchitectureCreateSerializer(serializers.Serializer):
    team = TeamField(required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    spec = serializers.JSONField(required=False, help_text=SPEC_HELP + "; when left out, the source's spec is copied")
    preset = serializers.CharField(required=False, help_text="fork this preset")
    candidate = ScopedField(Candidate, required=False, help_text="fork this candidate (of one of your teams)")
    version = ScopedField(ArchitectureVersion, required=False, help_text="fork this version into a new architecture")

    def validate(self, attrs):
        sources = [key for key in ("preset", "candidate", "version") if attrs.get(key) is not None]
        if len(sources) > 1:
            raise ValidationError({"non_field_errors": ["Fork from one source at a time (preset, candidate or version)."]})
        if not sources and "spec" not in attrs:
            raise ValidationError({"spec": ["Give a spec, or a preset, candidate or version to fork."]})
        return attrs


class VersionCreateSerializer(serializers.Serializer):
    spec = serializers.JSONField(help_text=SPEC_HELP)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62,
                                      help_text="the version this one was edited from (default: the latest)")


class ImportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=services.FORMATS, default="auto")
    config = serializers.JSONField(required=False, help_text="the pasted config (or upload it as `file`)")
    file = serializers.FileField(required=False, help_text="an uploaded config file (JSON)")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    team = TeamField(required=False)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    save = StrictBooleanField(default=True, help_text="add it to the library (else only convert and answer the spec)")
    # Importer options (the command line's flags).
    depth = serializers.ChoiceField(choices=[26, 38, 50, 68, 77, 101], required=False)
    flow = serializers.ChoiceField(choices=["repflow", "input"], required=False)
    attention = serializers.ChoiceField(choices=["none", "peer"], required=False)
    learnable_weights = StrictBooleanField(required=False)
    modality = serializers.ChoiceField(choices=["rgb", "flow"], required=False)
    num_classes = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    frames = serializers.IntegerField(required=False, min_value=1, max_value=4096)
    size = serializers.IntegerField(required=False, min_value=8, max_value=4096)

    OPTIONS = {"assemblenet": ("depth", "flow", "attention", "learnable_weights", "num_classes", "frames", "size"),
               "evanet": ("modality", "num_classes", "frames", "size"), "tvn": ("num_classes", "frames", "size"), "archspec": ()}

    def validate(self, attrs):
        upload = attrs.pop("file", None)
        if upload is not None:
            if upload.size > services.MAX_BODY_BYTES:
                raise ValidationError({"file": [f"too large: {upload.size:,} bytes (at most {services.MAX_BODY_BYTES:,})"]})
            try:
                attrs["config"] = services.parse_json(upload.read(), where="file")
            except services.SpecRejected as error:
                raise ValidationError({"file": [str(p) for p in error.problems], **problems_payload(error.problems)}) from None
        if "config" not in attrs:
            raise ValidationError({"config": ["Paste a config or upload a file."]})
        return attrs


REPORT = inline_serializer("AnalysisReport", fields={
    "valid": serializers.BooleanField(),
    "problems": serializers.ListField(child=serializers.DictField(), help_text="{location, message}: the validator's"),
    "warnings": serializers.ListField(child=serializers.DictField(), help_text="{location, message}: outside the search space"),
    "nodes": serializers.DictField(help_text="per node id: input_shapes, output_shape, params, macs, share"),
    "totals": serializers.DictField(allow_null=True, help_text="params, macs, output_shape, latency_ms_estimate (ms, CPU, batch 1), "
                                 "latency_error (its relative error, null when uncalibrated), latency_calibrated, latency_networks, "
                                 "latency_note (where the estimate comes from)"),
    "spec_hash": serializers.CharField(allow_null=True),
})
PROBLEMS = inline_serializer("SpecProblems", fields={
    "detail": serializers.CharField(), "problems": serializers.ListField(child=serializers.DictField())})


# ---------------------------------------------------------------------- architectures
@extend_schema_view(list=extend_schema(parameters=api_parameters(choices={"family": catalog.family_names()})))
class ArchitectureViewSet(BodyLimit, RenameDeleteMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Architecture.objects.none()  # for the schema; get_queryset scopes to the user's teams
    serializer_class = ArchitectureSerializer
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def rename_with(self, user, architecture, name):
        return services.rename_architecture(user=user, architecture=architecture, name=name)

    def delete_with(self, user, architecture):
        return services.delete_architecture(user=user, architecture=architecture)

    def removal_of(self, architecture):
        return services.architecture_removal(architecture)

    def get_queryset(self):
        architectures = Architecture.objects.for_user(self.request.user).select_related("team", "created_by")
        if self.action == "list":
            architectures = api_filtered(self.request, architectures, choices={"family": catalog.family_names()})
        return architectures

    @extend_schema(request=ArchitectureCreateSerializer, responses={201: VersionSerializer, 400: PROBLEMS})
    def create(self, request, *args, **kwargs):
        """A new architecture with its first version: a spec, or a fork of a preset, candidate or version."""
        form = ArchitectureCreateSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            source = None
            if data.get("preset"):
                source = services.preset_source(data["preset"])
            elif data.get("candidate"):
                source = services.candidate_source(request.user, data["candidate"].pk)
            elif data.get("version"):
                source = services.version_source(request.user, data["version"].pk)
            version = services.create_architecture(
                user=request.user, team=data.get("team"), name=data.get("name", "") or (source.title if source else ""),
                spec=data["spec"] if "spec" in data else source.spec, message=data.get("message", ""),
                origin=source.origin if source else Architecture.Origin.NEW, preset=source.preset if source else "",
                candidate=source.candidate if source else None, version=source.version if source else None)
        except services.StudioError as error:
            raise error_response(error) from None
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=VersionBriefSerializer(many=True))
    @extend_schema(methods=["post"], request=VersionCreateSerializer, responses={201: VersionSerializer, 400: PROBLEMS})
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        """Its versions, newest first; POST saves a new version (never an overwrite)."""
        architecture = self.get_object()
        if request.method == "GET":
            return Response(VersionBriefSerializer(architecture.versions.select_related("author").order_by("-number"), many=True).data)
        form = VersionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        parent = None
        if form.validated_data.get("parent"):
            parent = architecture.versions.filter(pk=form.validated_data["parent"]).first()
            if parent is None:
                raise ValidationError({"parent": ["Not a version of this architecture."]})
        try:
            version = services.save_version(architecture=architecture, user=request.user, spec=form.validated_data["spec"],
                                            message=form.validated_data.get("message", ""), parent=parent)
        except services.StudioError as error:
            raise error_response(error) from None
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImportSerializer, responses={201: VersionSerializer, 200: OpenApiTypes.OBJECT, 400: PROBLEMS})
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request):
        """Import a pasted or uploaded config: ArchSpec JSON, an AssembleNet structure list (optional weights),
        a TVN dict or an EvaNet DNA, through the command line's importers. ``save=false`` only converts."""
        form = ImportSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        fmt = data["format"]
        try:
            detected = services.detect_format(data["config"]) if fmt == "auto" else fmt
            options = {key: data[key] for key in ImportSerializer.OPTIONS.get(detected, ()) if key in data}
            spec = services.import_config(data["config"], fmt=detected, name=data.get("name", ""), options=options)
            if not data["save"]:
                return Response({"format": detected, "spec": spec.to_dict()})
            version = services.create_architecture(
                user=request.user, team=data.get("team"), name=data.get("name", "") or spec.name, spec=spec.to_dict(),
                message=data.get("message", "") or f"imported ({detected})", origin=Architecture.Origin.IMPORTED,
                note=f"{detected}" + (f", {request.FILES['file'].name}" if "file" in request.FILES else ""))
        except services.StudioError as error:
            raise error_response(error) from None
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=500, allow_blank=True, help_text="the version's note (its spec never changes)")


@extend_schema(parameters=[OpenApiParameter("architecture", OpenApiTypes.INT, description="only this architecture's")])
class VersionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ArchitectureVersion.objects.none()  # for the schema; get_queryset scopes to the user's teams
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=MessageSerializer, responses=VersionBriefSerializer,
                   description="Correct a version's message (members and owners); its spec is immutable.")
    def partial_update(self, request, pk=None):
        version = self.get_object()
        body = body_object(request)
        unknown = sorted(str(k)[:40] for k in body if k != "message")
        if unknown:
            raise ValidationError({key: ["Only the message of a version can be changed."] for key in unknown})
        form = MessageSerializer(data=body)
        form.is_valid(raise_exception=True)
        try:
            services.edit_version_message(user=request.user, version=version, message=form.validated_data["message"])
        except services.StudioError as error:
            raise error_response(error) from None
        return Response(VersionBriefSerializer(self.get_queryset().get(pk=version.pk)).data)

    def get_serializer_class(self):
        return VersionSerializer if self.action in ("retrieve", "export") else VersionBriefSerializer

    def get_queryset(self):
        queryset = ArchitectureVersion.objects.for_user(self.request.user).select_related("architecture", "author")
        raw = self.request.query_params.get("architecture")
        if raw not in (None, ""):
            if not raw.isdigit() or len(raw) > 18:
                raise ValidationError({"architecture": [f"Must be a whole number, got {raw[:40]!r}."]})
            queryset = queryset.filter(architecture_id=int(raw))
        return queryset.order_by("architecture_id", "-number")

    @extend_schema(responses={(200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="the ArchSpec JSON file")})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """The version's ArchSpec JSON, as a download."""
        version = self.get_object()
        slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in version.architecture.name)[:80] or "architecture"
        response = HttpResponse(json.dumps(version.spec, indent=2) + "\n", content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{slug}-v{version.number}.json"'
        return response


# ---------------------------------------------------------------------- presets, node types
class PresetViewSet(viewsets.ViewSet):
    lookup_value_regex = r"[A-Za-z0-9_\-]{1,64}"

    @extend_schema(responses=inline_serializer("Preset", fields={
        "name": serializers.CharField(), "family": serializers.CharField(), "doc": serializers.CharField()}, many=True))
    def list(self, request):
        """The named presets (published networks and small baselines)."""
        return Response(catalog.preset_list())

    @extend_schema(responses=inline_serializer("PresetSpec", fields={
        "name": serializers.CharField(), "family": serializers.CharField(), "doc": serializers.CharField(),
        "spec": serializers.DictField()}))
    def retrieve(self, request, pk=None):
        try:
            source = services.preset_source(pk)
        except services.StudioError:
            raise Http404("No such preset.") from None
        doc = next(p["doc"] for p in catalog.preset_list() if p["name"] == pk)
        return Response({"name": pk, "family": source.family, "doc": doc, "spec": source.spec})


class FamilyViewSet(viewsets.ViewSet):
    lookup_value_regex = r"[a-z]{1,32}"

    # A raw schema is wrapped as the list's items (a basic type would not be).
    @extend_schema(responses={200: {"type": "object", "description": "a family's node types"}})
    def list(self, request):
        """Every family's node types and their attributes (kinds, ranges, choices), from the schema."""
        return Response([catalog.describe_family(name) for name in catalog.family_names()])

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request, pk=None):
        if pk not in catalog.family_names():
            raise Http404("No such family.")
        return Response(catalog.describe_family(pk))


# ---------------------------------------------------------------------- analyze
class AnalyzeView(BodyLimit, APIView):
    """Validate and price a whole spec (what the editor calls after every edit)."""

    role_actions = {"POST": "read"}  # analysis changes nothing: viewers draw read-only with it

    parser_classes = [SafeJSONParser]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("family", OpenApiTypes.STR, description="refuse a spec of another family")],
        responses={200: REPORT, 400: REPORT, 413: PROBLEMS},
        description="Body: the spec itself. 200 for any spec that parses, valid or not (an edit in progress is not an error): "
                    "`valid`, the validator's located problems, per-node output shapes, params and MACs, totals with an "
                    "estimated CPU latency, and search-space warnings. 400 only when the body is not a spec's shape "
                    "(not a JSON object, wrong types, too many nodes) or `family` is unknown; 413 when it is too large.")
    def post(self, request):
        family = request.query_params.get("family") or None
        if family is not None and family not in catalog.family_names():
            raise ValidationError({"family": [f"Unknown family {family[:40]!r}."]})
        report = analyze_data(request.data, family=family, latency_model=editor_latency_model())
        return Response(report.to_dict(), status=status.HTTP_200_OK if report.parsed else status.HTTP_400_BAD_REQUEST)
