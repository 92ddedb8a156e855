"""Virtual time: a cycle counter driven by executed instructions, and an event scheduler.

One instruction is one cycle. ``Clock.cycles`` is the time committed at the start of the
current CPU burst; during a burst ``now()`` adds the instructions executed so far (read from
the core's exact instruction counter), so a peripheral register read mid-burst sees exact time.
"""
from __future__ import annotations

import heapq
import itertools


class Timer:
    """Handle of a scheduled callback; ``cancel()`` is O(1) (lazy removal)."""
    __slots__ = ("args", "cancelled", "fn", "when")

    def __init__(self, when, fn, args):
        self.when = when
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Clock:
    def __init__(self, hz: int):
        if hz <= 0:
            raise ValueError("clock rate must be positive")
        self.hz = int(hz)
        self.cycles = 0           # committed time
        self._heap: list = []
        self._seq = itertools.count()
        self.inflight = _zero     # set by the CPU while a burst runs: instructions so far
        self.on_schedule = None   # callback(when) so the CPU can end a burst early

    # -- reading time -------------------------------------------------------------------
    def now(self) -> int:
        return self.cycles + self.inflight()

    def now_ns(self) -> int:
        return self.now() * 1_000_000_000 // self.hz

    def now_us(self) -> int:
        return self.now() * 1_000_000 // self.hz

    def ns_to_cycles(self, ns: int) -> int:
        return -(-ns * self.hz // 1_000_000_000)

    def us_to_cycles(self, us: float) -> int:
        return -(-int(us * self.hz) // 1_000_000)

    # -- scheduling ---------------------------------------------------------------------
    def at(self, when: int, fn, *args) -> Timer:
        """Run ``fn(*args)`` when time reaches cycle ``when`` (never earlier)."""
        t = Timer(int(when), fn, args)
        heapq.heappush(self._heap, (t.when, next(self._seq), t))
        if self.on_schedule is not None:
            self.on_schedule(t.when)
        return t

    def after(self, cycles: int, fn, *args) -> Timer:
        return self.at(self.now() + max(0, int(cycles)), fn, *args)

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def fire_due(self) -> int:
        """Run every callback due at or before the committed time. Returns how many ran."""
        heap = self._heap
        n = 0
        while heap and heap[0][0] <= self.cycles:
            _, _, t = heapq.heappop(heap)
            if not t.cancelled:
                t.cancelled = True
                t.fn(*t.args)
                n += 1
        return n

    def clear(self):
        self._heap.clear()


def _zero() -> int:
    return 0
