"""The review API: leaderboards, the Pareto front, and one model's review (status, tags, pointers,
comments, audit) addressed as /api/models/<kind>/<id>/ for a candidate, a version or an ensemble.

Roles are the decision's (webapp.teams.roles), on the model's team, before anything is written:
reading and commenting need any role there; review status, tags, pointers, resolving and
ensembles need member. Another team's model, experiment or team is a 404, like one that does not
exist. A body that is not a JSON object is a 400 saying so; booleans are JSON true or false.
"""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apikit.bodies import body_object, bool_field
from webapp.apikit.params import Pagination, int_param
from webapp.studio.api_common import api_error
from webapp.studio.services import StudioError
from webapp.teams.models import Team
from webapp.teams.permissions import action_of
from webapp.teams.roles import can, require

from . import leaderboard, services
from .ensembles import create_ensemble
from .export_jobs import create_export, export_row
from .models import AuditEntry, Comment, Ensemble, Export, Subject
from .outdated import related_subjects
from .presenters import audit_rows, subject_summary, threads

FILTERS = [OpenApiParameter(name, OpenApiTypes.STR, description=text) for name, text in (
    ("team", "one of your teams (default: all of them)"), ("experiment", "one experiment"), ("family", "evanet, assemblenet or tvn"),
    ("dataset", "a dataset id"), ("status", "candidate status"), ("review", "draft, in_review, approved or rejected"),
    ("tag", "a tag name"), ("latency_device", "cpu or cuda: where the latency was measured"), ("sort", "accuracy, latency, params, macs, generation or index; '-' for descending (default -accuracy). "
                                                  "Rows count generations from 1 (generation 1 is the first population)"),
    *((name, "a bound") for name in leaderboard.RANGES))]


def parsed(request) -> leaderboard.Query:
    try:
        return leaderboard.parse_query(request.query_params)
    except leaderboard.FilterError as error:
        raise ValidationError({error.field: [str(error)]}) from None


class LeaderboardPagination(Pagination):
    """Counts stop at COUNT_CAP ("10,000+"): counting every match of a broad filter over 100,000 rows is
    most of a page's time, and nobody pages that far; ``count_capped`` says when it stopped."""

    default_limit = 50

    def get_count(self, queryset):
        return leaderboard.capped_count(queryset)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.count > leaderboard.COUNT_CAP
        return response


class LeaderboardView(APIView):
    pagination_class = LeaderboardPagination

    @extend_schema(parameters=FILTERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """Candidates of your teams, filtered and sorted on the server, one page at a time."""
        query = parsed(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(leaderboard.leaderboard(request.user, query), request, view=self)
        return paginator.get_paginated_response(leaderboard.rows(page))


class ParetoView(APIView):
    @extend_schema(parameters=[*FILTERS, OpenApiParameter("cost", OpenApiTypes.STR, description="latency (default) or macs")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """The accuracy/cost Pareto front of what the filters select ([id, accuracy, cost], cheapest first) and a
        thin sample of the other points."""
        query = parsed(request)
        try:
            return Response(leaderboard.pareto(request.user, query, request.query_params.get("cost") or "latency"))
        except leaderboard.FilterError as error:
            raise ValidationError({error.field: [str(error)]}) from None


class SubjectMixin:
    """The model in the URL, once the decision allows this request's action on it (nothing is made before)."""

    role_actions = {"POST": "review", "DELETE": "review"}

    def subject(self, request, kind: str, pk: int) -> Subject:
        if kind not in Subject.Kind.values or pk > 2**62:
            raise Http404("No such model.")
        subject = services.resolve_subject(request.user, kind, pk, action=action_of(request, self))
        if subject is None:
            raise Http404("No such model.")
        return subject


class SubjectView(SubjectMixin, APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, kind: str, pk: int):
        """The model's review: status with who and when, tags, pointers, comment threads (outdated ones marked), audit."""
        subject = self.subject(request, kind, pk)
        return Response(subject_summary(subject, request.user))


class ReviewActionView(SubjectMixin, APIView):
    @extend_schema(request=inline_serializer("ReviewAction", {
        "action": serializers.ChoiceField(choices=list(services.TRANSITIONS)), "comment": serializers.CharField(required=False)}),
        responses=OpenApiTypes.OBJECT)
    def post(self, request, kind: str, pk: int):
        """Request a review, approve or reject it (not your own request), or withdraw your request."""
        subject = self.subject(request, kind, pk)
        data = body_object(request)
        try:
            subject = services.change_status(subject, request.user, str(data.get("action", ""))[:20], str(data.get("comment", "")))
        except services.ReviewError as error:
            if error.field == "action" and "another member" in str(error):
                return Response({"action": [str(error)]}, status=status.HTTP_403_FORBIDDEN)
            raise api_error(error) from None
        return Response(subject_summary(subject, request.user))


class TagsView(SubjectMixin, APIView):
    @extend_schema(request=inline_serializer("TagName", {"name": serializers.CharField()}), responses=OpenApiTypes.OBJECT)
    def post(self, request, kind: str, pk: int):
        subject = self.subject(request, kind, pk)
        try:
            services.add_tag(subject, request.user, str(body_object(request).get("name", ""))[:100])
        except services.ReviewError as error:
            raise api_error(error) from None
        return Response(subject_summary(subject, request.user), status=status.HTTP_201_CREATED)


class TagView(SubjectMixin, APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request, kind: str, pk: int, name: str):
        subject = self.subject(request, kind, pk)
        try:
            services.remove_tag(subject, request.user, name[:100])
        except services.ReviewError as error:
            raise api_error(error) from None
        return Response(subject_summary(subject, request.user))


class PointersView(SubjectMixin, APIView):
    @extend_schema(request=inline_serializer("PointerName", {"name": serializers.CharField()}), responses=OpenApiTypes.OBJECT)
    def post(self, request, kind: str, pk: int):
        """Point the team's named pointer (e.g. production) at this model; it leaves the model it pointed at."""
        subject = self.subject(request, kind, pk)
        try:
            services.move_pointer(subject, request.user, str(body_object(request).get("name", ""))[:100])
        except services.ReviewError as error:
            raise api_error(error) from None
        return Response(subject_summary(subject, request.user))


class CommentsView(SubjectMixin, APIView):
    role_actions = {"POST": "comment"}  # viewers comment

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, kind: str, pk: int):
        subject = self.subject(request, kind, pk)
        return Response({"threads": threads(subject)})

    @extend_schema(request=inline_serializer("NewComment", {
        "body": serializers.CharField(), "parent": serializers.IntegerField(required=False),
        "anchor": serializers.JSONField(required=False, help_text='{"node": id} or {"edge": [source, target]}')}),
        responses=OpenApiTypes.OBJECT)
    def post(self, request, kind: str, pk: int):
        """Start a thread (optionally anchored to a node or an edge) or reply to one."""
        subject = self.subject(request, kind, pk)
        data = body_object(request)
        parent = None
        if data.get("parent") not in (None, ""):
            raw = data["parent"]
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw < 2**62:
                raise ValidationError({"parent": ["Must be a comment id."]})
            parent = Comment.objects.filter(pk=raw, subject__in=related_subjects(subject)).select_related("subject").first()
            if parent is None:
                raise ValidationError({"parent": ["Not a comment of this model."]})
        body = data.get("body", "")
        if not isinstance(body, str):
            raise ValidationError({"body": ["Must be text."]})
        try:
            comment = services.add_comment(subject, request.user, body, parent=parent, anchor=data.get("anchor"))
        except services.ReviewError as error:
            raise api_error(error) from None
        return Response({"id": comment.pk, "threads": threads(subject)}, status=status.HTTP_201_CREATED)


class ResolveView(APIView):
    role_actions = {"POST": "review"}

    @extend_schema(request=inline_serializer("Resolve", {"resolved": serializers.BooleanField(default=True)}),
                   responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        """Resolve (or reopen) a thread."""
        comment = Comment.objects.for_user(request.user).select_related("subject").filter(pk=min(pk, 2**62)).first()
        if comment is None:
            raise Http404("No such comment.")
        require(request.user, "review", comment)
        resolved = bool_field(body_object(request), "resolved", default=True)
        try:
            services.resolve_thread(comment, request.user, resolved)
        except services.ReviewError as error:
            raise api_error(error) from None
        return Response({"threads": threads(comment.subject)})


class ActivityView(APIView):
    @extend_schema(parameters=[OpenApiParameter("after", OpenApiTypes.INT, description="only entries with a larger id")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        """The team's audit trail, newest first (what the activity feed shows before it goes live)."""
        team = Team.objects.filter(memberships__user=request.user, pk=min(pk, 2**62)).first()
        if team is None:
            raise Http404("No such team.")
        after = int_param(request, "after") or 0
        entries = AuditEntry.objects.filter(team=team, pk__gt=after).select_related("actor")[:200]
        return Response({"results": audit_rows(entries), "can_change": can(request.user, "change", team)})


class EnsemblesView(APIView):
    role_actions = {"POST": "train"}  # in the members' team (create_ensemble decides before it writes)

    @extend_schema(request=inline_serializer("NewEnsemble", {
        "members": serializers.ListField(child=serializers.IntegerField()), "name": serializers.CharField(required=False)}),
        responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Evaluate the averaged-logit ensemble of 2-8 evaluated candidates (a job on the train queue)."""
        data = body_object(request)
        members = data.get("members")
        if not isinstance(members, list) or len(members) > 50:
            raise ValidationError({"members": ["Give a list of candidate ids."]})
        try:
            ensemble = create_ensemble(user=request.user, candidate_ids=members, name=str(data.get("name", ""))[:200])
        except StudioError as error:
            raise api_error(error) from None
        return Response(ensemble_row(ensemble), status=status.HTTP_201_CREATED)


class EnsembleView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        ensemble = Ensemble.objects.for_user(request.user).filter(pk=min(pk, 2**62)).first()
        if ensemble is None:
            raise Http404("No such ensemble.")
        return Response(ensemble_row(ensemble))


def ensemble_row(ensemble) -> dict:
    members = list(ensemble.members.order_by("pk").values("pk", "name", "accuracy"))
    return {"id": ensemble.pk, "name": ensemble.name, "status": ensemble.status, "accuracy": ensemble.accuracy,
            "error": ensemble.reason,
            "members": [{"id": m["pk"], "name": m["name"], "accuracy": m["accuracy"],
                         "accuracy_on_same_clips": (ensemble.member_accuracy or {}).get(str(m["pk"]))} for m in members]}


class ExportsView(SubjectMixin, APIView):
    role_actions = {"POST": "export"}  # reading a model is enough to export it

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, kind: str, pk: int):
        """The model's exports, newest first: status, stage, progress, and the size of a ready one."""
        subject = self.subject(request, kind, pk)
        return Response({"results": [export_row(e) for e in Export.objects.filter(subject=subject).select_related("created_by")[:50]]})

    @extend_schema(request=inline_serializer("NewExport", {"format": serializers.ChoiceField(choices=Export.Format.values,
                                                                                              default="onnx")}),
                   responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    def post(self, request, kind: str, pk: int):
        """Export an evaluated candidate's or evaluation's trained weights as a job: ``onnx`` (verified in onnxruntime)
        or ``checkpoint`` (weights only, loaded again with torch.load(weights_only=True)); 202 with the job to follow
        at its ``url`` (and its socket at ``ws``), or 200 with the one already ready or under way. At most a few per
        team at once (429 names the limit); 400 names why a model has no trained weights to export."""
        subject = self.subject(request, kind, pk)
        fmt = body_object(request).get("format", "onnx")
        try:
            export, created = create_export(subject, request.user, str(fmt)[:20])
        except StudioError as error:
            raise api_error(error) from None
        return Response(export_row(export), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class ExportView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        """One export: where it is (stage, progress), then its size, opset and largest difference, or why it failed."""
        export = Export.objects.for_user(request.user).select_related("created_by").filter(pk=min(pk, 2**62)).first()
        if export is None:
            raise Http404("No such export.")
        return Response(export_row(export))
