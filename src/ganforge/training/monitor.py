"""The quality monitor: good losses do not mean good data; this callback scores the data.

Every ``every`` steps it scores rows of the current generator (``generate()``) with ``scorer(rows)``,
which gives the figures, ``score`` among them the one compared (ganforge's measures rows against real
rows: column shapes, or their mean with pair trends), keeps the best weights of the family's sampled
network, and
asks the trainer to stop after ``patience`` scores without improvement when ``stop`` is set. At the
end of training the best weights are what the family keeps. The scorer draws from its own random
stream, so the training run itself is unchanged by monitoring.
"""

from __future__ import annotations

from typing import Any, Callable

from .trainer import Callback


class QualityMonitor(Callback):
    def __init__(self, generate: Callable[[], Any], scorer: Callable[[Any], dict[str, float]], every: int,
                 patience: int, stop: bool, metric: str = "column_shapes"):
        self.generate, self.scorer = generate, scorer
        self.every, self.patience, self.stop, self.metric = every, patience, stop, metric
        self.history: list[dict[str, float]] = []
        self.best, self.best_step, self.best_state, self.bad = -1.0, 0, None, 0

    def measure(self) -> dict[str, float]:
        """The figures of the generator as it is now (after training: the kept one)."""
        return self.scorer(self.generate())

    def score(self) -> float:
        return self.measure()["score"]

    def on_step_end(self, trainer, step):
        if step % self.every:
            return
        m = self.measure()
        self.history.append({"step": step, **{k: round(v, 6) for k, v in m.items()}})
        s = m["score"]
        if s > self.best + 1e-4:
            self.best, self.best_step, self.bad = s, step, 0
            self.best_state = {k: v.detach().clone() for k, v in trainer.family.sampling_module.state_dict().items()}
        else:
            self.bad += 1
            if self.stop and self.bad >= self.patience:
                trainer.stop_requested, trainer.stop_reason = True, "early_stopping"

    def on_train_end(self, trainer):
        if self.best_state is not None:
            trainer.family.keep(self.best_state)

    def summary(self, stopped_early: bool) -> dict:
        """What a model file records of the monitor."""
        best = next((h for h in self.history if h["step"] == self.best_step), {})
        return {"metric": self.metric, "best_step": self.best_step, "best_score": round(self.best, 4),
                "best_column_shapes": round(best.get("column_shapes", self.best), 4),
                "history": self.history, "stopped_early": stopped_early}
