from django.contrib import admin

from .models import Candidate, Dataset, Event, Experiment


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "status", "num_classes", "frames", "size", "has_flow", "created"]
    list_filter = ["status", "kind", "team"]
    search_fields = ["name", "source_path"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "family", "dataset", "status", "parallelism", "created"]
    list_filter = ["status", "family", "team"]
    search_fields = ["name"]
    raw_id_fields = ["best_candidate"]


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["name", "experiment", "generation", "status", "accuracy", "latency_ms", "params", "claimed_by", "attempt"]
    list_filter = ["status"]
    raw_id_fields = ["experiment", "parent"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["experiment", "seq", "type", "created"]
    list_filter = ["type"]
    raw_id_fields = ["experiment"]
