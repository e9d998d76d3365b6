"""The job runtime, written once: every long task of the studio (a search's candidate, an evaluation, an
ensemble, an ONNX export) is a row of a model built on ``Job`` and a ``JobKind`` registered under a name.
The runtime queues it on commit, claims it with a conditional UPDATE, beats while it runs, hands
it back on shutdown, records its result exactly once, and hands a silent worker's job to another.
This package imports no other app of the studio: kinds register themselves from their own apps.

``publisher`` is here too: the one module that talks to the channel layer, with a typed message
per thing a browser can hear (job states among them), for every app to its right."""
