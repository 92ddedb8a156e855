"""Machine snapshots: save the whole board state, go back to it later.

What a snapshot holds:

* the CPU registers (unicorn's context) and the exception model's Python state;
* every memory region (RAM, flash, ROM) byte for byte;
* the state of every machine-side object (classes from ``boardemu.emulator`` and
  ``boardemu.peripherals``: clock and scheduled events, peripheral models, parts, pins, the USB
  host, board-side channel state), found by walking the object graph from the machine;
* the raw bytes of every ctypes structure and array those objects own (native fast-path state
  such as the RP2040 SIO divider and spinlocks).

Restoring writes all of it back *into the same objects* (MMIO callbacks and native code hold
pointers to them), drops translated code, and leaves host-side things alone: the event bus and
its subscribers, links and their threads, the bytes a channel has for the host, the host's
queued input and line state (``SNAPSHOT_LIVE`` on a class names such attributes). Objects of
other libraries (locks, files, queues) are shared, not copied. State captured only in closure
cells is not restored (the models keep their state in attributes).
"""
from __future__ import annotations

import copy
import ctypes
import enum
import types
from collections import deque
from dataclasses import dataclass

MACHINE_SIDE = ("boardemu.emulator", "boardemu.peripherals")
_ATOMIC = (str, bytes, int, float, bool, complex, type(None), type, range, types.BuiltinFunctionType)
_CONTAINERS = (list, tuple, set, frozenset, deque)


@dataclass
class Snapshot:
    """An opaque saved board state (``Machine.snapshot()``), restorable any number of times."""
    time_ns: int
    cycles: int
    states: list                # [(object, {attribute: value})]
    memo: dict                  # id -> object kept by identity when copying
    cdata: list                 # [(ctypes object, bytes)]
    context: object             # unicorn register context


def _machine_side(o) -> bool:
    mod = getattr(type(o), "__module__", "") or ""
    return mod.startswith(MACHINE_SIDE) and not isinstance(o, (type, enum.Enum, BaseException))


def _slots(cls):
    for k in cls.__mro__:
        s = k.__dict__.get("__slots__", ())
        yield from ((s,) if isinstance(s, str) else s)


def _state_items(o):
    d = getattr(o, "__dict__", None)
    if d is not None:
        yield from d.items()
    for name in _slots(type(o)):
        if name in ("__dict__", "__weakref__"):
            continue
        try:
            yield name, getattr(o, name)
        except AttributeError:
            pass


def _live(o) -> frozenset:
    return frozenset(getattr(type(o), "SNAPSHOT_LIVE", ()))


def _walk(machine, pinned: tuple):
    """Machine-side objects, ctypes buffers and foreign objects reachable from the machine."""
    seen: set[int] = {id(p) for p in pinned}
    objs, cdata, foreign = [], [], list(pinned)
    stack = [machine]
    while stack:
        o = stack.pop()
        if isinstance(o, _ATOMIC) or id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, _CONTAINERS):
            stack.extend(o)
        elif isinstance(o, types.MethodType):
            stack.append(o.__self__)
        elif isinstance(o, types.FunctionType):
            foreign.append(o)
            for cell in o.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
        elif isinstance(o, (ctypes.Structure, ctypes.Array)):
            cdata.append(o)
            foreign.append(o)
        elif _machine_side(o):
            objs.append(o)
            live = _live(o)
            stack.extend(v for k, v in _state_items(o) if k not in live)
        else:
            foreign.append(o)            # locks, files, unicorn, other libraries: by identity
    return objs, cdata, foreign


def take(machine) -> Snapshot:
    pinned = (machine.events, machine.cpu.uc)
    objs, cdata, foreign = _walk(machine, pinned)
    memo = {id(o): o for o in objs}
    memo.update((id(o), o) for o in foreign)
    raw = [(o, {k: v for k, v in _state_items(o) if k not in _live(o)}) for o in objs]
    states = copy.deepcopy([s for _o, s in raw], dict(memo))
    return Snapshot(time_ns=machine.clock.now_ns(), cycles=machine.clock.cycles,
                    states=[(o, s) for (o, _), s in zip(raw, states)], memo=memo,
                    cdata=[(c, ctypes.string_at(ctypes.addressof(c), ctypes.sizeof(c))) for c in cdata],
                    context=machine.cpu.uc.context_save())


def put_back(machine, snap: Snapshot) -> None:
    states = copy.deepcopy([s for _o, s in snap.states], dict(snap.memo))
    for (o, _), st in zip(snap.states, states):
        d = getattr(o, "__dict__", None)
        for k, v in st.items():
            if d is not None and k in d:
                d[k] = v
            else:
                object.__setattr__(o, k, v)
    for c, data in snap.cdata:
        ctypes.memmove(ctypes.addressof(c), data, len(data))
    cpu = machine.cpu
    cpu.uc.context_restore(snap.context)
    cpu.uc.ctl_flush_tb()                # code in RAM/flash may differ from what was translated
    cpu._exact_mode = None
    if cpu.blocks is not None:
        cpu.blocks.forget()
