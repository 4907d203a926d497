"""The journey compiler: one specialised Python function per event type of a journey.

:func:`compile_process` writes the Python source of a journey's event path (read, check,
duplicate and late tests, joining, metrics, the cascade, reminders, grants, triggers,
explanations when kept) with everything the journey fixes inlined: the event's fields and their
checks, the metrics the type feeds (as slot indexes), each node's moves as straight-line
``if``/``elif`` code with the guards written out (:mod:`topo.engine.guard_source`), each node's
reminders as a function, and for each grant only the caps that apply to its incentive. The
source is checked and compiled under the rules of :mod:`topo.engine.emitter`: the journey's
text is only ever data in it. It is made once per journey and flags, and any number of engines
run it: it takes the engine as its first argument.

The generated code handles the common event: a valid event of a declared type, for a member
met for the first time or known, neither a duplicate nor late. Everything else (a ``profile``
event, an invalid, duplicate or late event, a grant a cap withholds, timers falling due) is
handed to the interpreter's own code, which stays the reference: so rejects, their reasons and
every rare path are the interpreter's by construction, and the common path is shown equal to
it by the differential tests (``tests/engine/test_journey_compiler.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from topo.engine import field_values
from topo.engine.caps import noted
from topo.engine.compiled import CompiledIncentive, CompiledJourney, CompiledReminder
from topo.engine.emitter import Emitter
from topo.engine.evaluation import NOTHING, Context
from topo.engine.guard_source import expression_source, metric_source
from topo.engine.holdout import held_out
from topo.engine.member_state import MemberState, note_type
from topo.engine.metrics import EPOCH, MICROSECOND, drop, taken_inline
from topo.engine.triggers import new_trigger
from topo.errors import InvalidEvent
from topo.journey.number_range import FLOAT_LIMIT, LARGEST, SMALLEST

__all__ = ["compile_process"]

Path = Callable[[Any, Any, dict[str, Any]], list[Any]]
"""A generated event path: (engine, event, journal) -> the event's triggers."""
Bulk = Callable[[Any, Any, dict[str, Any], Any, list[Any]], None]
"""The same over many events: (engine, events, journal, on_reject, out), the triggers added
to ``out``; a rejected event goes to ``on_reject`` (event, error), or raises without one."""

_ABSENT = object()
_UNREAD = object()  # a memo of a metric not read yet in this event


def compile_process(
    journey: CompiledJourney, *, backfill: bool, explaining: bool, occasion: type
) -> tuple[Path, Bulk] | None:
    """The event path of ``journey`` for engines with these flags, as generated code: a
    function of (engine, event, journal), and its loop over many events (:data:`Bulk`,
    ``process_many``'s). It is generated and compiled once per journey and flags and kept
    with the compiled journey (in memory); it holds no engine, so engines stay free of
    reference cycles.

    None for a journey too large for CPython's compiler (a node with about a thousand moves on
    one event type nests its ``elif`` chain beyond the compiler's recursion limit): such a
    journey runs interpreted, with the same outputs."""
    key = (backfill, explaining, occasion)
    if key not in journey.generated:
        try:
            made = _Generator(journey, backfill, explaining, occasion).build()
        except (RecursionError, MemoryError):
            made = None
        journey.generated[key] = made
    found: tuple[Path, Bulk] | None = journey.generated[key]
    return found


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def add(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Generator:
    def __init__(
        self, journey: CompiledJourney, backfill: bool, explaining: bool, occasion: type
    ) -> None:
        self.c = journey
        self.backfill = backfill
        self.occasion = occasion
        self.e = Emitter()
        self.out = _Lines()
        self.slow = "engine._interpret"
        self.grants: dict[tuple[str, int | None, str], str] = {}
        self.memo: dict[str, str] = {}
        self.explaining = explaining
        self.explain = "engine._explain"

    # -- the whole -------------------------------------------------------------------------

    def build(self) -> tuple[Path, Bulk]:
        c, e = self.c, self.e
        self.memo = self.memos()
        self.remind = {node: self.reminder_function(node) for node in c.reminders}
        handlers: dict[str, str] = {}
        for kind in c.journey.events:
            handlers[kind] = self.handler(kind)
        table = e.name()
        process = e.name()
        o = self.out
        o.add(f"def {process}(engine, raw, journal):")
        o.depth += 1
        o.add("if type(raw) is dict:")
        o.add("    kind = raw.get('type')")
        o.add("    if type(kind) is str:")
        o.add(f"        handler = {table}.get(kind)")
        o.add("        if handler is not None:")
        o.add("            return handler(engine, raw, journal)")
        o.add(f"return {self.slow}(raw, journal)")
        o.depth -= 1
        o.add(f"{table} = {{{', '.join(f'{e.literal(k)}: {h}' for k, h in handlers.items())}}}")
        bulk = e.name()
        o.add(f"def {bulk}(engine, events, journal, on_reject, out):")
        o.depth += 1
        o.add("for raw in events:")
        o.add("    try:")
        o.add("        if type(raw) is dict:")
        o.add("            kind = raw.get('type')")
        o.add(f"            handler = {table}.get(kind) if type(kind) is str else None")
        o.add("            if handler is not None:")
        o.add("                out += handler(engine, raw, journal)")
        o.add("                continue")
        o.add(f"        out += {self.slow}(raw, journal)")
        o.add(f"    except {e.value(InvalidEvent)} as error:")
        o.add("        if on_reject is None:")
        o.add("            raise")
        o.add("        on_reject(raw, error)")
        o.depth -= 1
        functions = e.compile(o.text(), c.id)
        return functions[process], functions[bulk]

    # -- one event type ----------------------------------------------------------------------

    def handler(self, kind: str) -> str:
        c, e, o = self.c, self.e, self.out
        name = e.name()
        slow = self.slow
        o.add(f"def {name}(engine, raw, journal):")
        o.depth += 1
        # The envelope, as EventReader.read takes it; anything unusual goes the slow way.
        o.add("event_id = raw.get('id')")
        o.add("member = raw.get('member')")
        o.add("at_text = raw.get('at')")
        o.add(
            "if (type(event_id) is not str or not event_id or not event_id.isascii() "
            "or type(member) is not str or not member or not member.isascii() "
            f"or type(at_text) is not str or {e.value(field_values.TIMESTAMP)}(at_text) is None):"
        )
        o.add(f"    return {slow}(raw, journal)")
        o.add("try:")
        o.add(f"    at = {e.value(datetime.fromisoformat)}(at_text)")
        o.add(f"except {e.value(ValueError)}:")
        o.add(f"    return {slow}(raw, journal)")
        o.add("if not 1 < at.year < 9999:")
        o.add(f"    return {slow}(raw, journal)")
        self.fields(kind)
        o.add(f"stamp = (at - {e.value(EPOCH)}) // {e.value(MICROSECOND)}")
        o.add("out = []")
        o.add("occasion = None")
        o.add("state = engine.store.get(member)")
        window = e.literal(c.dedup_window)
        o.add("if state is None:")
        o.depth += 1
        self.join()
        o.depth -= 1
        o.add("else:")
        o.depth += 1
        o.add("earlier = state.seen.get(event_id)")
        o.add(
            f"if (earlier is not None and earlier >= state.clock - {window}) "
            "or stamp < state.clock:"
        )
        o.add(f"    return {slow}(raw, journal)")
        o.add("if member not in journal:")
        o.add("    journal[member] = state.snapshot()")
        o.depth -= 1
        o.add("seen = state.seen")
        if c.timed:
            o.add(f"if state.node in {e.value(c.timed)}:")
            o.add("    engine._fire_until(state, stamp, out)")
        if self.explaining:
            o.add("mark = len(state.history)")
            o.add(
                "step = {'step': 'event', 'event': event_id, "
                f"'type': {e.literal(kind)}, 'at': at_text}}"
            )
        # The event's id, kept for the dedup window (oldest first).
        o.add("seen.pop(event_id, None)")
        o.add("seen[event_id] = stamp")
        o.add(f"earlier = stamp - {window}")
        o.add("while True:")
        o.add("    first = next(iter(seen))")
        o.add("    if seen[first] >= earlier:")
        o.add("        break")
        o.add("    del seen[first]")
        o.add("slots = state.metrics")
        self.metrics(kind)
        o.add(f"attributes = state.attributes or {e.value(NOTHING)}")
        o.add("node = state.node")
        for local in self.memo.values():
            o.add(f"{local} = {e.value(_UNREAD)}")
        if self.explaining:
            o.add("origin = node")
        self.moves_and_reminders(kind)
        if self.explaining:
            o.add(f"if origin not in {e.value(c.exits)} and 'outcome' not in step:")
            o.add("    step['guards'] = []")
            o.add("    step['outcome'] = 'stayed at ' + origin")
            o.add(f"{self.explain}(state, step, mark)")
        o.add("state.clock = stamp")
        o.add("state.last_activity = at")
        if kind in c.since_types:
            o.add(f"{e.value(note_type)}(state, {e.literal(kind)}, at)")
        o.add("engine._keep(state, out)")
        o.add("return out")
        o.depth -= 1
        return name

    def join(self) -> None:
        """A member's first event: the member at the start node, entered at the event's time,
        and the start's ``on_enter`` (as the interpreter's ``_create``)."""
        c, e, o = self.c, self.e, self.out
        o.add("journal.setdefault(member, None)")
        o.add(
            f"state = {e.value(MemberState)}(member, {e.literal(c.start)}, at, stamp, "
            f"{e.value(c.metrics.new_state)}(), joined_at=at)"
        )
        o.add(f"occasion = {self.new_occasion()}")
        for incentive in c.on_enter.get(c.start, ()):
            self.grant(incentive, None, "enter", "None", e.literal(c.start))
        if self.explaining:
            o.add(
                f"{self.explain}(state, {{'step': 'joined', 'event': event_id, 'at': at_text, "
                f"'node': {e.literal(c.start)}}}, 0)"
            )

    def memos(self) -> dict[str, str]:
        """A local for each metric whose reading is not its slot (a window, a sum) that a
        guard on an event reads: read once per event, on first use (the member's metric slots
        and the time do not change after step 4)."""
        c = self.c
        guards = [m.guard for moves in c.on_event.values() for m in moves]
        guards += [r.guard for found in c.reminders.values() for r in found]
        names = sorted({name for g in guards if g is not None for name in g.metrics})
        return {n: self.e.name() for n in names if c.metrics.slots[n][1] is not None}

    def guard(self, text: str) -> str:
        return expression_source(text, self.c.metrics.slots, self.e, self.memo, _UNREAD)

    def fields(self, kind: str) -> None:
        """The event's declared fields, each checked by its field's own check."""
        c, e, o = self.c, self.e, self.out
        plan = c.events.plan(kind)
        o.add("fields = {}")
        if c.events.reject_extras:
            o.add("present = 4")
        absent = e.value(_ABSENT)
        refusal = e.value(field_values.Refusal)
        for field, check, required in plan.fields:
            key = e.literal(field)
            missing = f"    return {self.slow}(raw, journal)" if required else "    pass"
            o.add(f"value = raw.get({key}, {absent})")
            o.add(f"if value is {absent}:")
            o.add(missing)
            o.add("elif value is None:")
            o.add("    present += 1" if c.events.reject_extras else missing)
            if c.events.reject_extras and required:
                o.add(missing)
            o.add("else:")
            o.depth += 1
            if c.events.reject_extras:
                o.add("present += 1")
            quick = self.quick_check(kind, field)
            if quick is not None:  # the usual value, checked inline; any other by its check
                o.add(f"if {quick}:")
                o.add(f"    fields[{key}] = value")
                o.add("else:")
                o.depth += 1
            o.add("try:")
            o.add(f"    fields[{key}] = {e.value(check)}(value)")
            o.add(f"except {refusal}:")
            o.add(f"    return {self.slow}(raw, journal)")
            if quick is not None:
                o.depth -= 1
            o.depth -= 1
        if c.events.reject_extras:
            o.add("if len(raw) != present:")
            o.add(f"    return {self.slow}(raw, journal)")

    def quick_check(self, kind: str, field: str) -> str | None:
        """For a number field without ``one_of``: the test that a value of its exact type is
        within its bounds, which is all its check does to such a value (the check then returns
        it as it is). Anything else goes to the check (None: there is no such test)."""
        spec = self.c.journey.events[kind].fields[field]
        if spec.one_of is not None or spec.type not in ("int", "float"):
            return None
        least, most = (SMALLEST, LARGEST) if spec.type == "int" else (-FLOAT_LIMIT, FLOAT_LIMIT)
        low = least if spec.min is None else max(least, spec.min)
        high = most if spec.max is None else min(most, spec.max)
        e = self.e
        return f"type(value) is {spec.type} and {e.constant(low)} <= value <= {e.constant(high)}"

    def metrics(self, kind: str) -> None:
        """Step 4: each metric the type feeds takes the event in, in the book's order."""
        c, e, o = self.c, self.e, self.out
        context_made = False
        for index, where, field, take in c.metrics.feeds(kind):
            slot = f"slots[{e.literal(index)}]"
            if where is not None:
                if not context_made:
                    o.add(
                        f"memo = {e.value(Context)}(fields=fields, "
                        "attributes=state.attributes or {}, now=at)"
                    )
                    context_made = True
                o.add(f"if {e.value(where.holds)}(memo):")
                o.depth += 1
            value = "at" if field is None else "value"
            if field is not None:
                o.add(f"value = fields.get({e.literal(field)})")
                o.add("if value is not None:")
                o.depth += 1
            inline = taken_inline(take)
            if inline is None:
                o.add(f"{slot} = {e.value(take)}({slot}, {value}, stamp)")
            elif inline[0] == "count":
                o.add(f"{slot} = {slot} + 1")
            elif inline[0] == "last":
                o.add(f"{slot} = {value}")
            else:  # a window: what is out of it now goes, then the event joins it
                o.add(f"first = {slot}")
                o.add(f"earlier = stamp - {e.literal(inline[1])}")
                o.add("if first and first[0][0] <= earlier:")
                o.add(f"    {e.value(drop)}(first, earlier)")
                o.add(f"first.append((stamp, {value}))")
            if field is not None:
                o.depth -= 1
            if where is not None:
                o.depth -= 1

    # -- steps 5 to 7 ------------------------------------------------------------------------

    def moves_and_reminders(self, kind: str) -> None:
        c, e, o = self.c, self.e, self.out
        moving = {n for (n, t) in c.on_event if t == kind}
        entry = {n for n in c.journey.nodes if n not in c.exits} & (moving | set(c.reminders))
        if not entry:
            return
        o.add(f"if node in {e.value(frozenset(entry))}:")
        o.depth += 1
        if moving:
            o.add(f"if node in {e.value(frozenset(moving))}:")
            o.depth += 1
            self.cascade(kind)
            o.depth -= 1
        if c.reminders:
            o.add(f"if state.node in {e.value(frozenset(c.reminders))}:")
            o.depth += 1
            o.add("node = state.node")
            branch = "if"
            for node, (function, memos) in self.remind.items():
                o.add(f"{branch} node == {e.literal(node)}:")
                branch = "elif"
                passed = "".join(f", {self.memo[m]}" for m in memos)
                o.add(
                    f"    occasion = {function}(engine, state, slots, stamp, at, at_text, "
                    f"attributes, event_id, occasion, out{passed})"
                )
            o.depth -= 1
        o.depth -= 1

    def cascade(self, kind: str) -> None:
        """Steps 5 and 6: the first move whose guard holds, from node to node."""
        if self.explaining:
            self.explained_cascade(kind)
            return
        c, e, o = self.c, self.e, self.out
        o.add("visited = None")
        o.add("moved = 0")
        o.add("while True:")
        o.depth += 1
        branch = "if"
        for (source, event_type), moves in c.on_event.items():
            if event_type != kind:
                continue
            o.add(f"{branch} node == {e.literal(source)}:")
            branch = "elif"
            o.depth += 1
            first = "if"
            for move in moves:
                guard = "True" if move.guard is None else self.guard(move.guard.text)
                o.add(f"{first} {guard}:")
                first = "elif"
                o.depth += 1
                self.move(move.label, move.target, move.incentives)
                o.depth -= 1
            o.add("else:")
            o.add("    break")
            o.depth -= 1
        o.add("else:")
        o.add("    break")
        o.add(f"if moved >= {e.literal(c.max_cascade)}:")
        o.add("    break")
        o.depth -= 1

    def explained_cascade(self, kind: str) -> None:
        """The cascade, noting each guard looked at with what it saw (as ``Engine._seen``)
        and the outcome in the event's step. Flat: each move has a number, ``found``."""
        c, e, o = self.c, self.e, self.out
        o.add("visited = None")
        o.add("moved = []")
        o.add("looked = []")
        o.add("while True:")
        o.depth += 1
        o.add("found = 0")
        branch = "if"
        bodies = []
        for (source, event_type), moves in c.on_event.items():
            if event_type != kind:
                continue
            o.add(f"{branch} node == {e.literal(source)}:")
            branch = "elif"
            o.depth += 1
            for position, move in enumerate(moves):
                bodies.append(move)
                number = len(bodies)
                if position:
                    o.add("if found == 0:")
                    o.depth += 1
                label, to = e.literal(move.label), e.literal(move.target)
                if move.guard is None:
                    o.add(
                        f"looked.append({{'move': {label}, 'to': {to}, 'when': None, "
                        "'holds': True})"
                    )
                    o.add(f"found = {number}")
                else:
                    o.add(f"holds = bool({self.guard(move.guard.text)})")
                    values = ", ".join(
                        f"{e.literal(name)}: "
                        + metric_source(name, c.metrics.slots, e, self.memo, _UNREAD)
                        for name in sorted(move.guard.metrics)
                    )
                    o.add(
                        f"looked.append({{'move': {label}, 'to': {to}, "
                        f"'when': {e.literal(move.guard.text)}, 'values': {{{values}}}, "
                        "'holds': holds})"
                    )
                    o.add("if holds:")
                    o.add(f"    found = {number}")
                if position:
                    o.depth -= 1
            o.depth -= 1
        o.add("if found == 0:")
        o.add("    break")
        for number, move in enumerate(bodies, 1):
            o.add(f"{'if' if number == 1 else 'elif'} found == {number}:")
            o.depth += 1
            self.move(move.label, move.target, move.incentives)
            o.depth -= 1
        o.add(f"if len(moved) >= {e.literal(c.max_cascade)}:")
        o.add("    break")
        o.depth -= 1
        o.add("step['guards'] = looked")
        o.add("if moved:")
        o.add("    step['outcome'] = 'moved to ' + ' then '.join(moved)")
        o.add("else:")
        o.add("    step['outcome'] = 'stayed at ' + state.node")

    def move(self, label: str, target: str, incentives: tuple[str, ...]) -> None:
        c, e, o = self.c, self.e, self.out
        to = e.literal(target)
        o.add("if visited is None:")
        o.add("    visited = {node}")
        o.add(f"if {to} in visited:")
        o.add("    break")
        o.add("source = node")
        o.add(f"state.enter({to}, at)")
        o.add(f"node = {to}")
        o.add(f"visited.add({to})")
        o.add(f"moved.append({to})" if self.explaining else "moved += 1")
        o.add(f"state.history.append(('move', {e.literal(label)}, source, {to}, at, event_id))")
        for incentive in incentives:
            self.grant(incentive, None, "move", "source", to)
        for incentive in c.on_enter.get(target, ()):
            self.grant(incentive, None, "enter", "source", to)

    def reminder_function(self, node: str) -> tuple[str, list[str]]:
        """Step 7 at ``node``, as a function the handlers of every event type call: the
        reminders whose guard holds, in file order. It takes the values of the metrics its
        guards read that the caller may have read already, and gives back the occasion."""
        c, e, o = self.c, self.e, self.out
        reminders = c.reminders[node]
        name = e.name()
        memos = sorted(
            {m for r in reminders if r.guard is not None for m in r.guard.metrics} & set(self.memo)
        )
        taken = "".join(f", {self.memo[m]}" for m in memos)
        o.add(
            f"def {name}(engine, state, slots, stamp, at, at_text, attributes, event_id, "
            f"occasion, out{taken}):"
        )
        o.depth += 1
        o.add(f"fields = {e.value(NOTHING)}")  # reminders see no event
        o.add(f"node = {e.literal(node)}")
        for reminder in reminders:
            guard = "True" if reminder.guard is None else self.guard(reminder.guard.text)
            o.add(f"if {guard}:")
            target = e.literal(reminder.toward or node)
            o.depth += 1
            self.grant(reminder.incentive, reminder.index, "reminder", "node", target)
            o.depth -= 1
        o.add("return occasion")
        o.depth -= 1
        return name, memos

    # -- grants ------------------------------------------------------------------------------

    def grant(
        self, incentive: str, reminder: int | None, reason: str, source: str, target: str
    ) -> None:
        """A call of the grant function for this incentive, reminder and reason (made once)."""
        o = self.out
        key = (incentive, reminder, reason)
        function = self.grants.get(key)
        if function is None:
            function = self.grants[key] = self.grant_function(incentive, reminder, reason)
        o.add("if occasion is None:")
        o.add(f"    occasion = {self.new_occasion()}")
        o.add(f"{function}(engine, state, {source}, {target}, occasion, out)")

    def new_occasion(self) -> str:
        """The event's occasion (``Engine._Occasion``), its time written as triggers write it
        (the event's own text when that is how ``isoformat`` writes it)."""
        e = self.e
        written = f"{e.value(field_values.iso_text)}(at_text, at)"
        return f"{e.value(self.occasion)}(at, stamp, event_id, {written})"

    def grant_function(self, incentive_id: str, index: int | None, reason: str) -> str:
        """Step 6 for one incentive: the caps that apply to it, then the grant and trigger.

        A grant a cap withholds goes to the interpreter's ``_grant``, which finds the cap,
        records it and keeps the would-be trigger when asked."""
        c, e = self.c, self.e
        incentive = c.incentives[incentive_id]
        reminder = None if index is None else _reminder(c, index)
        lines = _Lines()
        name = e.name()
        add = lines.add
        add(f"def {name}(engine, state, source, target, occasion, out):")
        lines.depth += 1
        add("stamp = occasion.stamp")
        add("ledger = state.ledger")
        withheld = [
            f"return engine._grant(state, {e.literal(incentive_id)}, "
            f"{e.literal(reason)}, source, target, occasion, out, {e.value(reminder)})"
        ]
        slot = e.literal(incentive.slot)
        if incentive.once or incentive.cooldown is not None:
            add(f"last = ledger[{slot}] if ledger is not None and {slot} < len(ledger) else None")
            if incentive.once:
                add("if last is not None:")
            else:
                add(f"if last is not None and stamp - last < {e.literal(incentive.cooldown)}:")
            add("    " + withheld[0])
        if reminder is not None:
            if reminder.cooldown is not None:
                rslot = e.literal(reminder.slot)
                add(
                    f"last = ledger[{rslot}] if ledger is not None and {rslot} < len(ledger) "
                    "else None"
                )
                add(f"if last is not None and stamp - last < {e.literal(reminder.cooldown)}:")
                add("    " + withheld[0])
            elif reminder.ahead_of is None:
                add(f"if {e.literal(reminder.index)} in state.stay:")
                add("    " + withheld[0])
        if incentive.holdout:
            add(
                f"if {e.value(held_out)}({e.literal(incentive_id)}, state.member, "
                f"{e.constant(incentive.holdout)}):"
            )
            add("    " + withheld[0])
        pressure = c.pressure
        if pressure is not None:
            most, per = pressure
            add("grants = state.grants")
            add("if grants:")
            add(f"    oldest = stamp - {e.literal(per)}")
            add("    if grants[0] <= oldest:")
            add(f"        state.grants = grants = {e.value(_kept_after)}(grants, oldest)")
            add(f"    if len(grants) >= {e.literal(most)}:")
            add("        " + withheld[0])
        # Granted: noted in the ledger, so later caps see it (caps.record).
        add(f"state.ledger = {e.value(noted)}(ledger or (), {slot}, stamp)")
        if reminder is not None:
            add(f"state.ledger = {e.value(noted)}(state.ledger, {e.literal(reminder.slot)}, stamp)")
            add(f"if {e.literal(reminder.index)} not in state.stay:")
            add(f"    state.stay += ({e.literal(reminder.index)},)")
        if pressure is not None:
            add("state.grants = (*(state.grants or ()), stamp)")
        add(
            f"state.history.append(('granted', {e.literal(incentive_id)}, {e.literal(reason)}, "
            "occasion.at, occasion.cause))"
        )
        add("number = occasion.made")
        add("occasion.made = number + 1")
        if self.backfill:
            add("return")
        else:
            self.trigger(lines, incentive, reason)
        self.out.lines[0:0] = lines.lines  # defined before the handlers that call it
        return name

    def trigger(self, lines: _Lines, incentive: CompiledIncentive, reason: str) -> None:
        """The trigger of the grant: its id hashed as :func:`topo.engine.triggers.trigger_id`."""
        c, e = self.c, self.e
        add = lines.add
        separator = "\x1f"
        head = e.literal(f"{c.id}{separator}{c.version}{separator}")
        tail = e.literal(f"{separator}{incentive.id}{separator}{reason}{separator}")
        gap = e.literal(separator)
        add("at_text = occasion.written()")
        add(
            f"trigger = {e.value(hashlib.sha256)}(({head} + state.member + {gap} + "
            f"occasion.cause + {gap} + at_text + {tail} + str(number)).encode()).hexdigest()"
        )
        if incentive.message is None:
            message = e.literal("")
        else:
            message = f"engine.message(state, occasion.stamp, {e.literal(incentive.id)})"
        add(
            f"out.append({e.value(new_trigger)}(trigger[:32], state.member, "
            f"{e.literal(incentive.id)}, {e.literal(incentive.channel)}, {e.literal(reason)}, "
            f"source, target, state.node, occasion.at, at_text, occasion.cause, {message}, "
            f"{e.constant(incentive.cost)}))"
        )


def _reminder(c: CompiledJourney, index: int) -> CompiledReminder:
    for reminders in c.reminders.values():
        for reminder in reminders:
            if reminder.index == index:
                return reminder
    raise LookupError(index)


def _kept_after(grants: tuple[int, ...], oldest: int) -> tuple[int, ...]:
    """The grant times after ``oldest`` (as caps.withheld_by keeps them)."""
    return tuple(u for u in grants if u > oldest)
