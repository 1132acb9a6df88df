"""Experiment trackers, chosen by `logger=...`: they receive every unit's rows as it finishes."""

from __future__ import annotations

from bench.errors import BenchError


class NullTracker:
    def __init__(self, *, run_config: dict | None = None):
        pass

    def log_rows(self, rows: list[dict]) -> None:
        pass

    def finish(self) -> None:
        pass


class WandbTracker:
    """Weights & Biases; `mode: offline` writes to ./wandb without a network (sync later)."""

    def __init__(self, *, project: str = "bench", mode: str = "offline", run_config: dict | None = None):
        try:
            import wandb
        except ImportError:
            raise BenchError("logger=wandb needs the wandb package: pip install -e '.[wandb]' (or use logger=none)") from None
        self._run = wandb.init(project=project, mode=mode, config=run_config or {})
        self._table_rows: list[dict] = []

    def log_rows(self, rows: list[dict]) -> None:
        for row in rows:
            if row["status"] == "ok":
                self._run.log({f"{row['dataset']}/{row['model']}/{row.get('explainer') or 'fit'}/{row['metric']}": row["value"]})
        self._table_rows.extend(rows)

    def finish(self) -> None:
        import pandas as pd
        import wandb

        self._run.log({"rows": wandb.Table(dataframe=pd.DataFrame(self._table_rows))})
        self._run.finish()
