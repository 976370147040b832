"""In-process models on a cluster: batches shared out over Ray actors that each load the model.

`generate_many(..., executor="ray")` keeps everything else where it was: the driver looks up
the cache, groups the misses into batches, retries, traces and accounts usage; only the
`generate_batch` of each batch runs in an actor. An actor holds one GPU on a node that has
GPUs (`num_gpus=1`), else one torch thread (reserving no Ray CPU, see `ShardPool`), and loads
its model on first use.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import Any

from .. import executors, registry
from ..errors import ParameterError
from ..models import ModelSpec
from ._types import Provider, Request, Response

_POOLS: dict[tuple[str, str, int], ShardPool] = {}
_LOCK = threading.Lock()


class _Shard:
    """The actor: one provider, loaded once, answering whole batches."""

    def __init__(self, spec: ModelSpec):
        # The actor's process imported `workbench.llm`, so every built-in provider is registered.
        self.provider = registry.entry("provider", spec.provider, what=f"model {spec.id!r}").obj(
            spec
        )

    def generate(self, batch: list[Request], timeout: float) -> list[Response]:
        return asyncio.run(self.provider.generate_batch(batch, timeout))


class ShardPool:
    """`shards` actors of one model; `generate_batch` hands a batch to an idle one."""

    def __init__(self, spec: ModelSpec, shards: int | None = None):
        ray = executors.session()
        gpus = int(ray.cluster_resources().get("GPU", 0))
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.shards = shards or (gpus if gpus else max(1, min(4, cpus)))
        # An actor lives as long as this process, holding its model between calls. Were it to
        # reserve a CPU for all that time, a later Ray task of this process (a sweep's run)
        # could wait forever for one: so a CPU actor reserves none, is spread over the nodes,
        # and runs one torch thread. A GPU actor reserves its GPU.
        options: dict[str, Any] = (
            {"num_gpus": 1, "num_cpus": 0}
            if gpus
            else {
                "num_cpus": 0,
                "scheduling_strategy": "SPREAD",
                "runtime_env": {"env_vars": {"WORKBENCH_THREADS": "1"}},
            }
        )
        actor = ray.remote(**options)(_Shard)
        self.actors = [actor.remote(spec) for _ in range(self.shards)]
        self._idle = collections.deque(self.actors)

    async def generate_batch(self, batch: list[Request], timeout: float) -> list[Response]:
        # The caller's semaphore admits at most `shards` batches, so an actor is always idle.
        shard = self._idle.popleft() if self._idle else self.actors[0]  # Ray queues its calls
        try:
            return await shard.generate.remote(batch, timeout)
        finally:
            self._idle.append(shard)


def pool(provider: Provider, shards: int | None = None) -> ShardPool:
    """The actors of `provider`'s model (created once per process and shard count)."""
    if provider.remote:
        raise ParameterError(
            f"executor='ray' shares in-process models over Ray actors; {provider.spec.id} is an "
            "HTTP endpoint: raise `concurrency` instead"
        )
    if shards is not None and shards < 1:
        raise ParameterError(f"shards must be >= 1, got {shards}")
    ray = executors.session()
    # A new Ray session (after a shutdown) has none of the old actors: a new job id, new pools.
    key = (ray.get_runtime_context().get_job_id(), repr(provider.identity()), shards or 0)
    with _LOCK:
        if key not in _POOLS:
            _POOLS[key] = ShardPool(provider.spec, shards)
        return _POOLS[key]
