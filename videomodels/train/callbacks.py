"""Training callbacks: how the search engine, the web app and the CLI watch a run.

Every hook receives plain JSON-able values (ints, floats, strings, lists, dicts), so
a callback can forward them to a database, a Celery task state or a websocket as is.

Hooks, in the order the trainer calls them:
    on_model(model)                 once, with the built network before its first step (the one
                                    hook with a live object: read it, e.g. learned edge weights)
    on_train_start(info)            once; info describes the run (see loop.run_info)
    on_epoch_start(epoch)           epoch numbers start at 1
    on_step(step, epoch, loss, lr)  after every optimizer step; step counts steps done
                                    so far (starting at 1), lr is the rate that step used
    on_epoch_end(epoch, metrics)    metrics: the epoch's history entry (train loss, lr,
                                    compact val metrics or None)
    on_train_end(result)            once, with TrainResult.to_dict()

Early stop: any hook may return True, or set the callback's ``should_stop``
attribute to True. The trainer checks after every step and every epoch end; it
finishes the current step, evaluates the model if it has not been evaluated since,
and ends normally (``stop_reason`` in the result names the callback). Exceptions
raised by a callback are not caught: they abort the run.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from tqdm import tqdm

HOOKS = ("on_model", "on_train_start", "on_epoch_start", "on_step", "on_epoch_end", "on_train_end")


class TrainCallback:
    """Base class with no-op hooks; override the ones you need.

    Duck typing also works: CallbackList only calls the hooks an object defines.
    """

    should_stop: bool = False

    def on_model(self, model: Any) -> bool | None:
        return None

    def on_train_start(self, info: dict[str, Any]) -> bool | None:
        return None

    def on_epoch_start(self, epoch: int) -> bool | None:
        return None

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> bool | None:
        return None

    def on_epoch_end(self, epoch: int, metrics: dict[str, Any]) -> bool | None:
        return None

    def on_train_end(self, result: dict[str, Any]) -> bool | None:
        return None


class CallbackList:
    """Calls each hook on every callback in order and remembers the first stop request."""

    def __init__(self, callbacks: Iterable[Any] = ()) -> None:
        self.callbacks = list(callbacks)
        self.stop_reason: str | None = None

    @property
    def stop_requested(self) -> bool:
        return self.stop_reason is not None

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is None:
                continue
            answer = method(*args)
            if self.stop_reason is None and (answer is True or getattr(callback, "should_stop", False)):
                self.stop_reason = f"stopped by {type(callback).__name__}.{hook}"

    def on_model(self, model: Any) -> None:
        self._call("on_model", model)

    def on_train_start(self, info: dict[str, Any]) -> None:
        self._call("on_train_start", info)

    def on_epoch_start(self, epoch: int) -> None:
        self._call("on_epoch_start", epoch)

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        self._call("on_step", step, epoch, loss, lr)

    def on_epoch_end(self, epoch: int, metrics: dict[str, Any]) -> None:
        self._call("on_epoch_end", epoch, metrics)

    def on_train_end(self, result: dict[str, Any]) -> None:
        self._call("on_train_end", result)


class ProgressBar(TrainCallback):
    """A tqdm bar over optimizer steps, shown only when ``stream`` (stderr) is a terminal,
    so logs, pipes, Celery workers and tests stay clean."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.bar: tqdm | None = None

    def on_train_start(self, info: dict[str, Any]) -> None:
        if self.enabled:
            self.bar = tqdm(total=info.get("total_steps"), desc=f"training {info.get('spec_name') or 'model'}",
                            unit="step", file=self.stream, dynamic_ncols=True)

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(epoch=epoch, loss=f"{loss:.3f}", lr=f"{lr:.2e}", refresh=False)

    def on_epoch_end(self, epoch: int, metrics: dict[str, Any]) -> None:
        if self.bar is None or not metrics.get("val"):
            return
        val = metrics["val"]
        score = val.get("top1", val.get("mAP"))
        name = "top1" if "top1" in val else "mAP"
        if score is not None:
            self.bar.write(f"epoch {epoch}: train loss {metrics['train_loss']:.3f}, val loss {val['loss']:.3f}, val {name} {score:.3f}",
                           file=self.stream)

    def on_train_end(self, result: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or fake streams
        return False
