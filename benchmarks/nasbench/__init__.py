"""A tabular benchmark of video architecture search (NAS-Bench style) over a grid of the TVN space."""
