"""How much GPU memory a job has: the ``vram_gb`` setting when a person set it, else the
free memory the NVIDIA driver reports.

The driver is asked through NVML (nvidia-ml-py), imported only when first needed so a
machine without it (or without a GPU) pays nothing. Free memory changes as other programs
load models, so a reading is reused only for a moment.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

GIB = 2**30
READING_TTL_S = 2.0


@dataclass(frozen=True, slots=True)
class GpuMemory:
    """One GPU's memory, in GiB (what model cards call GB)."""

    index: int
    name: str
    total_gb: float
    free_gb: float


class VramProbe:
    """The configured GPU memory, or the free memory of the roomiest NVIDIA GPU."""

    def __init__(self, setting_gb: float | None = None) -> None:
        self.setting_gb = setting_gb
        self._lock = threading.Lock()
        self._reading: tuple[float, list[GpuMemory]] | None = None
        self._nvml: Any = None
        self._unavailable_reason: str | None = None

    def gpus(self) -> list[GpuMemory]:
        """Every NVIDIA GPU's memory now (empty without a driver or a GPU)."""
        with self._lock:
            now = time.monotonic()
            if self._reading is not None and now - self._reading[0] < READING_TTL_S:
                return self._reading[1]
            found = self._read()
            self._reading = (now, found)
            return found

    def free_gb(self) -> float | None:
        """GPU memory a job can use: the setting (a person knows best, e.g. when their app
        already holds memory), else the roomiest GPU's free memory, else None."""
        if self.setting_gb is not None:
            return self.setting_gb
        found = self.gpus()
        if found:
            return round(max(g.free_gb for g in found), 2)
        return None

    async def read_gb(self) -> float | None:
        """:meth:`free_gb` off the event loop (the driver's first answer can take a while)."""
        return await asyncio.to_thread(self.free_gb)

    @property
    def source(self) -> str:
        """Where :meth:`free_gb` comes from, for people reading a decision."""
        if self.setting_gb is not None:
            return "setting"
        return "nvml" if self.gpus() else "unknown"

    def _read(self) -> list[GpuMemory]:
        nvml = self._load()
        if nvml is None:
            return []
        try:
            found = []
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                name = nvml.nvmlDeviceGetName(handle)
                found.append(
                    GpuMemory(
                        index,
                        name.decode() if isinstance(name, bytes) else str(name),
                        memory.total / GIB,
                        memory.free / GIB,
                    )
                )
            return found
        except Exception as exc:  # any driver error means "no reading", never a failed job
            logger.info("cannot read GPU memory: %s", exc)
            return []

    def _load(self) -> Any:
        if self._nvml is not None or self._unavailable_reason is not None:
            return self._nvml
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception as exc:  # no package, no driver library, no GPU: all mean "none"
            self._unavailable_reason = str(exc) or type(exc).__name__
            logger.debug("no NVIDIA GPU reading: %s", self._unavailable_reason)
            return None
        self._nvml = pynvml
        return pynvml
