"""The fan-out of a forecast run over many series on Dask distributed: a LocalCluster on this machine by default,
or an existing cluster by its scheduler's address. Series go out in chunks (one task per chunk, not per series:
a task costs a few milliseconds of scheduling); the run's calibration is computed back here over every series."""

from __future__ import annotations

from collections.abc import Sequence

from govops.forecast import engine
from govops.forecast.engine import Array

CHUNK = 25


def _fit_chunk(chunk: Sequence[Array], h: int, m: int, backtest_h: int | None) -> list[engine._Fitted]:
    return [engine.fit_series(y, h=h, season_length=m, backtest_h=backtest_h) for y in chunk]


class DaskFanOut:
    """`fit_many` on a Dask cluster; use as a context manager (the local cluster is stopped at the end)."""

    def __init__(self, address: str | None = None, *, workers: int = 2) -> None:
        self.address = address
        self.workers = workers

    def __enter__(self) -> DaskFanOut:
        from distributed import Client, LocalCluster

        if self.address:
            self._cluster = None
            self._client = Client(self.address)
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __call__(self, series: Sequence[Array], h: int, m: int, backtest_h: int | None = None) -> list[engine._Fitted]:
        chunks = [list(series[i : i + CHUNK]) for i in range(0, len(series), CHUNK)]
        futures = self._client.map(_fit_chunk, chunks, h=h, m=m, backtest_h=backtest_h, pure=False)
        return [fitted for part in self._client.gather(futures) for fitted in part]
