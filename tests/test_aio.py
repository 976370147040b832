"""workbench.aio: coroutines run to completion from synchronous code, inside a running event
loop (as in a Jupyter kernel) without patching that loop to nest."""

import asyncio
import contextvars

import pytest

from workbench import aio

WHO = contextvars.ContextVar("who", default="nobody")


async def _answer(x: int) -> tuple[int, str, int]:
    await asyncio.sleep(0)
    return x * 2, WHO.get(), id(asyncio.get_running_loop())


@pytest.mark.unit
def test_without_a_running_loop():
    assert aio.run_sync(_answer(2))[0] == 4


@pytest.mark.unit
def test_inside_a_running_loop_gets_its_own_loop_and_the_callers_context():
    async def kernel_cell():
        WHO.set("cell")
        outer = id(asyncio.get_running_loop())
        value, who, inner = aio.run_sync(_answer(3))
        return value, who, inner != outer

    assert asyncio.run(kernel_cell()) == (6, "cell", True)


@pytest.mark.unit
def test_an_error_reaches_the_caller():
    async def boom():
        raise ValueError("judge said no")

    async def kernel_cell():
        return aio.run_sync(boom())

    with pytest.raises(ValueError, match="judge said no"):
        asyncio.run(kernel_cell())
