"""``make bench``: speed and accuracy figures, each beside a baseline measured in the same run."""
