"""videomodels: the video model library (architecture language, ops, builders, data, training).

Pure Python + PyTorch; nothing here imports Django.
"""
from videomodels.archspec import ArchSpec, Edge, InputStream, Node, with_input_size
from videomodels.graph import Budget, analyze, build_model, validate
from videomodels.validation import Problem, SpecError

__all__ = [
    "ArchSpec",
    "Budget",
    "Edge",
    "InputStream",
    "Node",
    "Problem",
    "SpecError",
    "analyze",
    "build_model",
    "validate",
    "with_input_size",
]
