"""CallbackList dispatch and stop requests; the progress bar only draws on a terminal."""
import io

from videomodels.train import CallbackList, ProgressBar, TrainCallback


class OnlySteps:
    """Duck-typed: defines one hook, no base class."""

    def __init__(self):
        self.steps = []

    def on_step(self, step, epoch, loss, lr):
        self.steps.append(step)


def test_partial_callbacks_get_only_their_hooks():
    partial = OnlySteps()
    hooks = CallbackList([partial, TrainCallback()])
    hooks.on_train_start({})
    hooks.on_step(1, 1, 0.5, 0.1)
    hooks.on_epoch_end(1, {})
    assert partial.steps == [1]
    assert not hooks.stop_requested and hooks.stop_reason is None


def test_first_stop_request_is_remembered():
    class StopAtEpochEnd(TrainCallback):
        def on_epoch_end(self, epoch, metrics):
            return True

    class FlagAtStep(TrainCallback):
        def on_step(self, step, epoch, loss, lr):
            self.should_stop = step >= 2

    hooks = CallbackList([FlagAtStep(), StopAtEpochEnd()])
    hooks.on_step(1, 1, 1.0, 0.1)
    assert not hooks.stop_requested
    hooks.on_step(2, 1, 1.0, 0.1)
    assert hooks.stop_reason == "stopped by FlagAtStep.on_step"
    hooks.on_epoch_end(1, {})
    assert hooks.stop_reason == "stopped by FlagAtStep.on_step"


def test_returning_a_non_true_value_does_not_stop():
    class ReturnsDict(TrainCallback):
        def on_step(self, step, epoch, loss, lr):
            return {"logged": True}

    hooks = CallbackList([ReturnsDict()])
    hooks.on_step(1, 1, 1.0, 0.1)
    assert not hooks.stop_requested


def test_progress_bar_is_silent_without_a_terminal():
    stream = io.StringIO()  # isatty() is False, like a pipe, a log file or a Celery worker
    bar = ProgressBar(stream)
    assert not bar.enabled
    bar.on_train_start({"total_steps": 2, "spec_name": "x"})
    bar.on_step(1, 1, 0.5, 0.01)
    bar.on_train_end({})
    assert stream.getvalue() == ""


def test_progress_bar_draws_when_enabled():
    stream = io.StringIO()
    bar = ProgressBar(stream, enabled=True)
    bar.on_train_start({"total_steps": 2, "spec_name": "tiny"})
    bar.on_step(1, 1, 0.5, 0.01)
    bar.on_epoch_end(1, {"train_loss": 0.5, "val": {"loss": 0.7, "top1": 0.25}})
    bar.on_train_end({})
    text = stream.getvalue()
    assert "training tiny" in text and "val top1 0.250" in text
