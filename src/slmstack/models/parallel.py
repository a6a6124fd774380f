"""More calls for a request that needs several: fan a call out over the list it starts, then
continue the reply while it leaves values unused.

First the model's one call is grounded as one call of several (``_seed``). Then, when an
argument of a call is the first item of a list the request writes ("the factorial of 5, 10 and
15"), the calls for the other items are written without the model (``fanout``); for a tool no
list grew, when the request describes several records in the same words ("weighs 85 kilograms …
weighs 60 kilograms"; with a choice named once in each record's part, ``frames.zip_choices``),
names several choices of an enum argument, or names a flag both plainly and negated
("isothermal … not isothermal"), or — when only one tool is offered — writes after the call's
values more numbers and names of the same kinds ("$15000 … California and $20000 … Florida"),
one call per record, choice or truth value replaces the model's (``frames``; records replace
as many model calls too, when they differ; so do the calls a request asks for again with
changes, ``again``, read in the tool's own section when several tools are offered, and with
one tool the legs of a trip, ``legs``). Then:

Asked for "the weather in Paris and in Rome", a small model often writes one call and closes the
list. When parallel calls are allowed and the engine can continue a reply (``_continue``), the
reply is reopened after its last call and the model writes one more, as long as the request still
names values (numbers, quoted strings, names; see ``grounding.request_values``) that no call uses.
Asked for two things ("the sum of the multiples of 3 … Also the product of the first five
primes"), it often calls the tool for one of them only: each offered tool that the request names
(``_named``), or that a part of the request asks for (``_asked_for``: the tool most like the
part by MiniLM similarity), and no call uses yet gets one continuation constrained to that
tool's call — first as a new reply to its section of the request alone (``_continue_part``;
kept only when the section writes every value the call uses), then after the reply so far.
A new call is kept only when it is valid, not a repeat, and uses at least one of those values (a
call to another tool: gives every required argument from the request) — otherwise the list is
closed where it was (a named tool's call that fails: the next named tool is tried). Before it
is closed, each offered tool no call uses yet is asked for its call once more, neither named nor
asked for (``_spare_tool_call``: most requests of several tools need every one offered), kept
when the request gives its required values and it uses a value no other call uses. At most
``MAX_PARALLEL_CALLS`` calls in all. Last, a call that is its tool's only one and takes another
call's value from outside its own part of the request is asked again from that part alone
(``_own_sections``). A text that joins the items of a list the request writes ("New York, Los
Angeles, London") starts the fan-out from its first item (``_unjoined``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SlmstackError, ToolCallError
from ..types import Message, ToolCall, ToolSpec, Usage
from . import again, fanout, frames, grounding, legs, numwords, polynomials, redecode, toolcalls
from .schema import MAX_PARALLEL_CALLS, call_schema

if TYPE_CHECKING:
    from .base import BaseChatModel, RawOutput, Request

__all__ = ["more_calls"]


def more_calls(model: BaseChatModel, req: Request, raw: RawOutput) -> RawOutput:
    """``raw`` with the calls the request still needs appended (unchanged when none fit)."""
    if not (req.tools and req.parallel_tool_calls and req.constraint is not None):
        return raw
    head = _open_list(raw.text)
    calls = _valid_calls(raw.text, req) if head is not None else []
    if head is None or not calls:
        return raw
    offered = model.offered(req)
    evidence = grounding.evidence_from(req.messages)
    named = [t for t in offered if _named(t.name, evidence)]
    pending = any(t.name in _uncalled(offered, calls) for t in named)
    text = _user_text(req)
    asked, parts, again = _asked_for(text, offered, req.tools)
    sections = {n: [p, *(s for m, s in again if m == n)] for n, p in parts.items()}
    asked_names = {t.name for t in asked}
    named += [t for t in asked if t not in named]
    usage = raw.usage
    seeded = _seed(model, req, calls, evidence)
    asked_again = None
    if len(seeded) == 1 and seeded[0].name in parts:
        spec = next(t for t in offered if t.name == seeded[0].name)
        asked_again, more = _from_section(model, req, seeded[0], spec, parts[spec.name])
        if more is not None:
            usage = usage + more.usage
        if asked_again is not None:
            seeded = _seed(model, req, [asked_again], evidence)
    seeded = _unjoined(seeded, text)
    if seeded is not calls:  # the values the reply will end with: lists start from those
        calls = seeded
        head = _rewritten(head, calls)
    head, grown = _fan_out(req, calls, head, text, parts, read_records=not pending)
    one_call = _one_call_schema(offered)
    values = _values(req)
    tried: set[str] = set()
    tried_parts: set[str] = set()
    while len(calls) < MAX_PARALLEL_CALLS:
        open_values = [v for v in values if not grounding.covered(v, calls)]
        uncalled = _uncalled(offered, calls)
        target = next((t for t in named if t.name in uncalled and t.name not in tried), None)
        if target is None and again:  # a tool asked for again later: a call from that part
            name, section = again.pop(0)
            spec = next(t for t in offered if t.name == name)
            more = _continue_part(model, req, section, call_schema(spec))
            if more is None:
                continue
            usage = usage + more.usage
            new = _again_call(more.text, req, evidence, calls, section)
            if new is not None:
                calls.append(new)
                head, grown = f"{head}, {_body(new)}", True
            continue
        if target is None and not open_values and not uncalled:
            break
        if target is not None:  # a tool the request names and no call uses: ask for its call
            tried.add(target.name)
        schema = call_schema(target) if target is not None else one_call
        new = None
        if target is not None and target.name in parts:  # first from its part of the request
            more = _continue_part(model, req, parts[target.name], schema)
            if more is not None:
                usage = usage + more.usage
                new = _new_call(more.text, req, evidence, calls, values, open_values,
                                asked_names)
                if new is not None and not _within(new, parts[target.name]):
                    new = None
        if new is None and target is None:  # a part whose values no call uses: its call
            new, more = _open_part_call(model, req, evidence, calls, values, open_values,
                                        asked_names, tried_parts, one_call)
            if more is not None:
                usage = usage + more.usage
        if new is None:
            more = model._continue(req, head + ", ", schema)
            if more is None:
                break
            usage = usage + more.usage
            new = _new_call(more.text, req, evidence, calls, values, open_values, asked_names)
        if new is None:
            if target is not None:
                continue  # not one the request gives the values for: try the next named tool
            new, more = _spare_tool_call(model, req, evidence, calls, head, offered, tried,
                                         values)
            if more is not None:
                usage = usage + more.usage
            if new is None or more is None:
                break
        calls.append(new)
        head, grown = f"{head}, {more.text.strip()}", True
        _, listed = _list_calls(req, calls, [new], text, parts)  # "… in 1900 and 1950"
        head += "".join(f", {_body(c)}" for c in listed)
    shared = _shared_lists(req, calls, text)
    head += "".join(f", {_body(c)}" for c in shared)
    grown = grown or bool(shared) or asked_again is not None
    usage, mended = _own_sections(model, req, calls, offered, parts, usage)
    kept = _own_calls(calls, sections)
    if mended or len(kept) < len(calls):
        calls[:] = kept
        head, grown = _rewritten(head, calls), True
    if not grown:
        return raw
    return type(raw)(text=head + "]}", usage=usage, finish_reason=raw.finish_reason,
                     repairs=raw.repairs)


def _seed(model: BaseChatModel, req: Request, calls: list[ToolCall],
          evidence: grounding.Evidence) -> list[ToolCall]:
    """The model's one call with its arguments grounded as the finished reply's will be
    (``grounding.prune_ungrounded``: "5%" given as 5 is 0.05, a value the request does not
    write is dropped): fan-out and records start from its values. Grounded as one call of
    several, its arguments varying: the rules that read the whole request as one call's
    ("filed in 2019 … also in 2018" would make the year 2018; every amenity the request names
    would join one call's list) are for a reply of one call. ``calls`` itself when there are
    several or nothing changes."""
    if len(calls) != 1 or not model.prune_ungrounded_optional:
        return calls
    spec = next(t for t in req.tools if t.name == calls[0].name)
    pruned = _checked(grounding.prune_ungrounded(calls[0], spec, evidence, [], [{}],
                                                 varies=set(calls[0].arguments)), req)
    if pruned is None or pruned.arguments == calls[0].arguments:
        return calls
    return [pruned]


def _unjoined(calls: list[ToolCall], text: str) -> list[ToolCall]:
    """``calls`` with a text that joins three or more short items with commas ("New York, Los
    Angeles, London" for one ``location``) cut to its first item when that starts a list of the
    request holding every one of them ("New York, Los Angeles, London and Tokyo"): the fan-out
    then writes one call per item. (No ground-truth value of BFCL's four non-live categories
    joins items so, free texts with sentences aside.) ``calls`` itself when none does."""
    out = list(calls)
    for i, call in enumerate(calls):
        for key, value in call.arguments.items():
            if not isinstance(value, str) or value.count(",") < 2 or "." in value:
                continue
            items = [re.sub(r"^(?:and|or)\s+", "", p.strip()) for p in value.split(",")]
            if any(not item or len(item.split()) > 4 for item in items):
                continue
            first = call.model_copy(update={"arguments": {**call.arguments, key: items[0]}})
            listed = [str(f.arguments[key]) for f in fanout.fan_out(first, text)]
            if all(item in listed for item in items):
                out[i] = first
    return out if out != calls else calls


def _from_section(model: BaseChatModel, req: Request, call: ToolCall, spec: ToolSpec,
                  section: str) -> tuple[ToolCall | None, RawOutput | None]:
    """With several tools, ``call`` (to the offered tool ``spec``) asked again from its own
    ``section`` of the request when it takes a value from another part: the new call where the
    section writes every value it uses (else None), and the reply it came from (None: not
    asked)."""
    if _within(call, section):
        return None, None
    again, more = _part_call(model, req, section, spec)
    if more is None:
        return None, None
    if again is not None and again.name == call.name and _within(again, section):
        return again, more
    return None, more


def _own_sections(model: BaseChatModel, req: Request, calls: list[ToolCall], offered: list,
                  parts: dict[str, str], usage: Usage) -> tuple[Usage, bool]:
    """Each call that is its tool's only one and takes a value another call uses from outside
    its own section of the request (the third part's price "made of marble" called with the
    first part's "bronze") asked again from that section alone, in place in ``calls``: kept
    when only the borrowed values change (the section found for the tool may be another
    tool's: "… flights from New York to London … Finally, … from London to Paris"), the
    section writes each new value in so many words and grounds every other — a choice of the
    parameter's own aside, which the finished reply's grounding corrects — and no new value is
    a reference ("the same city"). A value another call holds for the same parameter, in a
    section that refers back ("what his most famous discovery was"), is shared, not borrowed.
    The call asked again copies its values from the section only (``_part_call``) where every
    borrowed value is one another call holds for another parameter. Returns the usage with the
    replies asked for, and whether a call changed."""
    mended = False
    for i, call in enumerate(list(calls)):
        if call.name not in parts or sum(c.name == call.name for c in calls) != 1:
            continue
        others = [c for c in calls if c is not call]
        here = grounding.Evidence(parts[call.name])
        back = _refers_back(parts[call.name])
        borrowed = {k for k, v in call.arguments.items() if isinstance(v, str | int | float)
                    and not isinstance(v, bool) and not grounding.is_grounded(v, here, k)
                    and grounding.covered(v if isinstance(v, str) else float(v), others)
                    and not (back and _held_alike(k, v, others))}
        if not borrowed:
            continue
        spec = next(t for t in offered if t.name == call.name)
        # a value another call holds for another parameter ("sedan" as a room type) is
        # another part's; one held for the same parameter may be the request's shared context
        # ("… about the NBA league: the record …"): the model may take it again from there
        crossed = not any(_held_alike(k, call.arguments[k], others) for k in borrowed)
        again, more = _part_call(model, req, parts[call.name], spec, own_values=crossed)
        if more is None:
            continue
        usage = usage + more.usage
        # the choices the tool itself offers (``offered`` makes every span of the request one)
        props = next(t for t in req.tools if t.name == call.name).parameters.get(
            "properties") or {}
        choices = {k: tuple((p or {}).get("enum", ())) for k, p in props.items()}
        if again is None or again.name != call.name or again.arguments == call.arguments \
                or any(again.arguments.get(k, v) not in (v, *choices.get(k, ()))
                       for k, v in call.arguments.items() if k not in borrowed):
            continue  # (only borrowed values and choices may change: the section may be another's)
        fresh = {k: v for k, v in again.arguments.items() if call.arguments.get(k) != v
                 and not isinstance(v, bool) and v not in choices.get(k, ())}
        if fresh and all(_written(v, here) and not (isinstance(v, str) and _REFERENCE.search(v))
                         for v in fresh.values()) and all(
                isinstance(v, bool) or k in fresh or grounding.is_grounded(v, here, k)
                or v in choices.get(k, ()) for k, v in again.arguments.items()):
            calls[i], mended = again, True
    return usage, mended


def _own_calls(calls: list[ToolCall], sections: dict[str, list[str]]) -> list[ToolCall]:
    """``calls`` less each call to a tool called more than once that takes a value another
    tool's section of the request writes and none of its own does ("… the 5 tallest
    mountains … Second, … from 300K to 350K" giving a second ``calculate_entropy_change`` the
    final temperature 5; "… events … in France …. After that, … the sculpture 'The Thinker'"
    giving a second ``get_sculpture_value`` the sculpture "France"), while a call of that tool
    stays."""
    out = list(calls)
    for name in dict.fromkeys(c.name for c in calls):
        mine = [c for c in calls if c.name == name]
        if len(mine) < 2 or name not in sections:
            continue
        own = [grounding.Evidence(s) for s in sections[name]]
        other = [grounding.Evidence(s) for n, ss in sections.items() if n != name for s in ss]
        keep = [c for c in mine if not _foreign(c, own, other)]
        if keep:
            out = [c for c in out if c.name != name or c in keep]
    return out


def _foreign(call: ToolCall, own: list[grounding.Evidence], other: list[grounding.Evidence]
             ) -> bool:
    """Whether ``call`` takes a value that ``other`` sections write and no ``own`` one does."""
    return any(not any(grounding.is_grounded(v, e, k) for e in own)
               and any(grounding.is_grounded(v, e, k) for e in other)
               for k, v in call.arguments.items()
               if isinstance(v, str | int | float) and not isinstance(v, bool))


def _part_call(model: BaseChatModel, req: Request, section: str, spec: ToolSpec,
               *, own_values: bool = False) -> tuple[ToolCall | None, RawOutput | None]:
    """The one valid call the model writes to ``spec`` for ``section`` of the request alone
    (None if not one), and the reply it came from (None: the engine cannot continue). With
    ``own_values``, where the engine copies values from the request, it copies them from
    ``section`` only: a small model asked again takes another part's value as readily as the
    first time ("a sedan from Enterprise" for the room type of "a deluxe room")."""
    if own_values and model.extractive_strings:
        from .base import _extractive  # (base imports this module)

        declared = next((t for t in req.tools if t.name == spec.name), spec)
        spec = _extractive([declared], [Message(role="user", content=section)])[0]
    more = _continue_part(model, req, section, call_schema(spec))
    return (None, None) if more is None else (_one_call(_OPEN + more.text + "]}", req), more)


def _written(value: object, evidence: grounding.Evidence) -> bool:
    """Whether ``evidence`` writes ``value`` in so many words (or digits)."""
    if isinstance(value, int | float):
        return evidence.has_number(float(value))
    return isinstance(value, str) and evidence.has_words(value)


_REFERENCE = re.compile(r"\b(?:same|this|that|these|those|it|its|their|previous)\b", re.I)
_BACK = re.compile(r"\b(?:he|his|him|she|her|hers|it|its|they|their|them|the same|this|these|"
                   r"those)\b", re.I)


def _held_alike(key: str, value: object, others: list[ToolCall]) -> bool:
    """Whether another call gives its parameter ``key`` the same ``value``."""
    return any(o.arguments.get(key) == value for o in others)


def _refers_back(section: str) -> bool:
    """Whether ``section`` refers to what another part names ("… the nature of the criminal
    offenses he committed", "what his most famous discovery was"): another call's value of the
    same parameter is then this call's too, not one to ask again for."""
    return bool(_BACK.search(section))


def _fan_out(req: Request, calls: list[ToolCall], head: str, text: str,
             parts: dict[str, str], read_records: bool = True) -> tuple[str, bool]:
    """Calls for the other items of the lists the model's calls' arguments start
    (``fanout``), appended to ``calls`` and ``head``; then, for a tool whose calls no list
    grew, one call per equation the request writes when the call's numbers are one's
    coefficients (``polynomials``), per record the request describes in repeating frames, or
    else per choice of
    an enum argument it names (``frames``), in place of the model's calls to that tool when
    there are more of them — not while the request names another offered tool no call uses
    (``read_records`` False): a frame that repeats may be that tool's ("the gcd of 96 and 128,
    and the lcm of 15 and 25"). Returns the head and whether any call was added."""
    done, added = _list_calls(req, calls, list(calls), text, parts)  # done: tools a list grew
    grown = bool(added)
    head += "".join(f", {_body(c)}" for c in added)

    def others(call: ToolCall) -> list[ToolCall]:
        return [c for c in calls if c.name != call.name]

    def record_calls(call: ToolCall) -> list[ToolCall]:
        found = frames.records(call, text, others(call))
        if not found and len(req.tools) == 1:
            found = frames.following(call, text)
        return found

    # (reader, whether its calls replace as many of the model's: records read from the
    # request are more often right than a small model's second call, the others are not)
    readers = (
        # equations: "3x^2 + 4x + 2 = 0 … 5x^2 - 7x + 3 = 0" for a, b, c
        (lambda call, spec: polynomials.records(call, text), True),
        # records with a choice named once in each ("stage 7 in easy mode and 3 in hard")
        (lambda call, spec: frames.zip_choices(record_calls(call), spec.parameters, text),
         True),
        (lambda call, spec: frames.records(call, text, others(call)), True),  # "weighs 85 kg"
        # "from A to B, then to C": with one tool only (with several, a leg may be another's)
        (lambda call, spec: legs.records(call, spec.parameters, text, calls)
         if len(req.tools) == 1 else [], True),
        # "…, then do the same calculation but using the 'simpson' method"; with several
        # tools, read in the tool's own section of the request
        (lambda call, spec: again.records(
            call, spec.parameters, text if len(req.tools) == 1 else parts.get(spec.name, "")),
         True),
        (lambda call, spec: frames.choices(call, spec.parameters, text), False),  # "easy … hard"
        (lambda call, spec: frames.both_ways(call, spec.parameters, text), False),  # "not …"
        # "… $15000 … California and $20000 … Florida": with one tool only, for with several
        # the values further on may be another tool's
        (lambda call, spec: frames.following(call, text) if len(req.tools) == 1 else [], False))
    for read, ties in readers if read_records else ():
        for spec in [t for t in req.tools if t.name not in done]:
            mine = [c for c in calls if c.name == spec.name]
            if mine and _replace(calls, mine, read(mine[0], spec), req, ties):
                done.add(spec.name)
                grown = True
    for spec in req.tools if read_records else ():
        # "the 'Open', 'Close', 'High' and 'Low' prices for Microsoft and Apple": each call
        # (after the lists above) once per choice the request lists
        mine = [c for c in calls if c.name == spec.name]
        if mine and _replace(calls, mine, frames.listed_choices(mine, spec.parameters, text),
                             req):
            grown = True
    if grown:
        head = _rewritten(head, calls)
    return head, grown


def _list_calls(req: Request, calls: list[ToolCall], sources: list[ToolCall], text: str,
                parts: dict[str, str]) -> tuple[set[str], list[ToolCall]]:
    """The calls for the other items of the lists the arguments of ``sources`` start
    (``fanout``), appended to ``calls``; returns the tools a list was found for and the calls
    added (an item whose call the model already wrote is skipped). A call whose tool has a
    section of the request (``parts``) that writes all its values takes only lists whose every
    item the section writes too: a list elsewhere is another tool's ("the multiples of 3 and 5
    …. Also find the product of the first five prime numbers", "prime numbers between 50 and
    150. Then get the fibonacci series upto 150")."""
    grown: set[str] = set()
    added = []
    for call in sources:
        fans = fanout.fan_out(call, text)
        own = parts.get(call.name)
        if own is not None and _within(call, own) and not all(_within(f, own) for f in fans):
            fans = []
        if not fans:
            continue
        grown.add(call.name)
        if fans[0].arguments != call.arguments and call in calls:
            # lists paired "respectively" in the order written: the model's call was the
            # first item of one list with another item of the other
            first = _checked(fans[0], req)
            if first is None:
                continue
            calls[calls.index(call)] = first
            added.append(first)
            call = first
        # every combination of several lists: an item's call is written when all its varied
        # values are; one list (or lists in pairs): when any of them is
        varied = [k for k in call.arguments if any(f.arguments[k] != call.arguments[k]
                                                   for f in fans)]
        match = all if _combination(fans, varied) else any
        for new in fans[1:]:
            if not any(c.name == new.name and match(c.arguments.get(k) == new.arguments[k]
                                                    for k in varied) for c in calls):
                _add(req, calls, new, added)
    return grown, added


def _combination(fans: list[ToolCall], keys: list[str]) -> bool:
    """Whether a fan-out combines lists: a varied argument repeats a value across its calls."""
    return any(len({json.dumps(f.arguments[k], default=str) for f in fans}) < len(fans)
               for k in keys)


def _shared_lists(req: Request, calls: list[ToolCall], text: str) -> list[ToolCall]:
    """The calls ``fanout.shared`` finds (another tool's calls over a list one tool was called
    over), valid ones only, appended to ``calls`` within ``MAX_PARALLEL_CALLS``."""
    added: list[ToolCall] = []
    for new in fanout.shared(calls, text):
        _add(req, calls, new, added)
    return added


def _add(req: Request, calls: list[ToolCall], new: ToolCall, added: list[ToolCall]) -> None:
    """``new`` appended to ``calls`` and ``added`` when it is valid and ``calls`` has room."""
    checked = _checked(new, req) if len(calls) < MAX_PARALLEL_CALLS else None
    if checked is not None:
        calls.append(checked)
        added.append(checked)


def _replace(calls: list[ToolCall], mine: list[ToolCall], new: list[ToolCall], req: Request,
             ties: bool = False) -> bool:
    """``mine`` (the calls of one tool) replaced in ``calls`` by ``new`` where ``new`` has more
    calls (``ties``: or as many, other ones), all valid, and the total stays within
    ``MAX_PARALLEL_CALLS``."""
    checked = [_checked(c, req) for c in new]
    tie = ties and len(checked) == len(mine) > 1 and None not in checked and [
        c.arguments for c in checked if c is not None] != [c.arguments for c in mine]
    if (len(checked) <= len(mine) and not tie) or None in checked \
            or len(calls) - len(mine) + len(checked) > MAX_PARALLEL_CALLS:
        return False
    at = calls.index(mine[0])
    rest = [c for c in calls if c.name != mine[0].name]
    calls[:] = rest[:at] + [c for c in checked if c is not None] + rest[at:]
    return True


def _checked(call: ToolCall, req: Request) -> ToolCall | None:
    try:
        return toolcalls.validate_call(call, req.tools, [])
    except ToolCallError:
        return None


def _rewritten(head: str, calls: list[ToolCall]) -> str:
    """The open reply ``head`` written anew with ``calls``."""
    return head[:head.index("[") + 1] + " " + ", ".join(_body(c) for c in calls)


def _body(call: ToolCall) -> str:
    return json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False)


def _open_list(text: str) -> str | None:
    """``{"tool_calls": [ ... ]}`` without its closing ``]}``; None for any other reply."""
    body = text.rstrip()
    if not body.endswith("}"):
        return None
    body = body[:-1].rstrip()
    if not body.endswith("]"):
        return None
    head = body[:-1].rstrip()
    return head if '"tool_calls"' in head[:40] else None


def _valid_calls(text: str, req: Request) -> list[ToolCall]:
    found = (_checked(call, req) for call in toolcalls.parse_tool_calls(text, req.tools).calls)
    return [call for call in found if call is not None]


def _one_call(text: str, req: Request) -> ToolCall | None:
    """The valid call in ``text`` when there is exactly one, else None."""
    found = _valid_calls(text, req)
    return found[0] if len(found) == 1 else None


def _one_call_schema(tools: list) -> dict:
    calls = [call_schema(t) for t in tools]
    return calls[0] if len(calls) == 1 else {"anyOf": calls}


def _user_text(req: Request) -> str:
    return "\n".join(m.content or "" for m in req.messages if m.role == "user")


def _values(req: Request) -> list[str | float]:
    text = _user_text(req)
    known = " ".join(f"{t.name} {t.description}" for t in req.tools)
    return grounding.request_values(text, known)


def _new_call(
    text: str,
    req: Request,
    evidence: grounding.Evidence,
    calls: list[ToolCall],
    values: list[str | float],
    open_values: list[str | float],
    asked: set[str] | None = None,
) -> ToolCall | None:
    new = _one_call(text, req)
    if new is None:
        return None
    key = json.dumps([new.name, new.arguments], sort_keys=True, default=str)
    if any(json.dumps([c.name, c.arguments], sort_keys=True, default=str) == key for c in calls):
        return None
    if new.name in _uncalled(req.tools, calls):
        # another of the offered tools: kept when the request names what it is about (or a
        # part of it asks for that tool) and gives every one of its required arguments
        spec = next(t for t in req.tools if t.name == new.name)
        required = spec.parameters.get("required") or []
        grounded = required and not grounding.ungrounded_required(new, spec, evidence)
        wanted = spec.name in (asked or ()) or _named(spec.name, evidence)
        return new if grounded and wanted else None
    used = [v for v in values if v not in open_values]
    return new if _adds_more_than_it_repeats(new, used, open_values) else None


_GENERIC = frozenset(
    "get set find calculate calc compute search fetch list create update delete check make run "
    "do info information data details detail by of for to from the a and tool api service".split())


def _named(name: str, evidence: grounding.Evidence) -> bool:
    """Whether the request names the subject of tool ``name``: a word of it other than a
    generic verb or noun ("fibonacci" of ``get_fibonacci_sequence``)."""
    return any(evidence.has_word(w) for w in fanout.name_words(name)
               if len(w) >= 3 and w not in _GENERIC)


def _asked_for(text: str, tools: list, declared: Sequence[ToolSpec] = ()
               ) -> tuple[list, dict[str, str], list[tuple[str, str]]]:
    """The offered tools a part of the request asks for, in the order of the parts: each part
    (``tooldocs.aspects``: its sentences, and clauses after "then", "also" …) is compared with
    every tool by the bundled MiniLM, and the most similar tool counts when its similarity
    clears the tool gate's threshold ("Calculate the area under the curve … And find the
    derivative at x=3": ``integral``, then ``derivative``), and for each its section of the
    request: the first part that asks for it and the parts after it that ask for no other tool
    ("Lastly, I'm curious about a historical event. When did the Battle of Waterloo happen?").
    Third, the later sections of a tool asked for again after another one ("the dividend data
    for Microsoft …, then the stock market data …, then the dividend data on an annual basis"):
    (tool name, section), in the order of the request. Nothing for a request of one part, one
    tool, or without the embedder installed. A tool whose first section writes no value (a
    preamble: "Can you help me plan my vacation?") takes the next section that asks for it
    and writes one as its own (``_holds_values``; the choices its parameters offer are those
    of its ``declared`` spec, where given: an offered one may offer every span of the
    request)."""
    from ..rag.tooldocs import GATE_THRESHOLD, aspects, gate_text

    parts = aspects(text)
    if not parts or len(tools) < 2:
        return [], {}, []
    try:
        from ..rag.embed import Embedder

        # one batch, parts and tools together: cached tool vectors (embedded in other batches)
        # differ in the last float digits, enough to change which calls a borderline request
        # gets — and, through the model's history, later replies of the same model instance
        rows = Embedder().encode(parts + [gate_text(t) for t in tools])
    except (ImportError, SlmstackError):
        return [], {}, []
    sims = rows[: len(parts)] @ rows[len(parts):].T
    own: dict[str, list[str]] = {}  # the tools asked for, first asked first: their sections
    again: list[tuple[str, list[str]]] = []  # later sections of a tool asked for again
    current: list[str] | None = None  # the section being read
    last: str | None = None  # the tool it is for
    for part, row in zip(parts, sims, strict=True):
        best = int(row.argmax())
        if row[best] >= GATE_THRESHOLD and tools[best].name != last:
            last = tools[best].name
            if last not in own:
                current = own[last] = []
            else:  # asked for again after another tool: a section of its own, read later
                again.append((last, []))
                current = again[-1][1]
        if current is not None:
            current.append(part)
    by_name = {t.name: t for t in tools}
    specs = {**by_name, **{t.name: t for t in declared if t.name in by_name}}
    for name, section in list(own.items()):  # a preamble ("Can you help me plan a trip?")
        later = next((i for i, (n, _) in enumerate(again) if n == name), None)
        if later is not None and not _holds_values(" ".join(section), specs[name]) \
                and _holds_values(" ".join(again[later][1]), specs[name]):
            own[name] = again.pop(later)[1]
    own = dict(sorted(own.items(), key=lambda item: parts.index(item[1][0])))
    return ([by_name[n] for n in own], {n: " ".join(section) for n, section in own.items()},
            [(n, " ".join(section)) for n, section in again])


_SENTENCE_START = re.compile(r"(?:^|[.?!:;])$")
_NOT_A_NAME = frozenset("I I'm I'd I've I'll".split())


def _holds_values(section: str, tool: ToolSpec) -> bool:
    """Whether ``section`` writes a value a call could take: a number (in digits or words), a
    quotation, a capitalised name inside a sentence, or a choice one of ``tool``'s parameters
    offers. A part that writes none ("Can you help me plan a trip?", "I need to know the total
    cost.") may name what a tool does, but a later part that asks for the tool again is the one
    that says what to call it with."""
    if re.search(r"\d|[\"“”‘]|(?:^|\s)'|'(?:\s|$)", section):
        return True
    words = re.findall(r"[A-Za-z][\w'-]*", section)
    if any(w.lower() in numwords.CARDINALS for w in words):
        return True
    for m in re.finditer(r"[A-Z][\w'-]*", section):
        if m.group(0) not in _NOT_A_NAME and (m.start() == 0 or section[m.start() - 1] == " ") \
                and not _SENTENCE_START.search(section[: m.start()].rstrip()):
            return True
    low = {w.lower() for w in words}
    props = tool.parameters.get("properties") or {}
    return any(isinstance(c, str) and c.lower() in low for p in props.values()
               if isinstance(p, dict) for c in p.get("enum", ()))


def _again_call(text: str, req: Request, evidence: grounding.Evidence, calls: list[ToolCall],
                section: str) -> ToolCall | None:
    """The call in ``text`` written for a later ``section`` that asks for a tool again, when it
    is one the request asks for: its required values are the request's, the values that
    differ from the tool's last call are all written in the section, and one of them is used
    by no call yet (the record this section adds: "then the same data but on an annual basis";
    what it does not restate is the last call's)."""
    new = _one_call(text, req)
    if new is None:
        return None
    spec = next(t for t in req.tools if t.name == new.name)
    if grounding.ungrounded_required(new, spec, evidence):
        return None
    same = [c for c in calls if c.name == new.name]
    if any(c.arguments == new.arguments for c in same):
        return None
    last = same[-1].arguments if same else {}
    here = grounding.Evidence(section)
    changed = {k: v for k, v in new.arguments.items() if k not in last or last[k] != v}
    fresh = [leaf for v in changed.values() for leaf in grounding.leaves(v)
             if not isinstance(leaf, bool) and isinstance(leaf, str | int | float)
             and not grounding.covered(leaf if isinstance(leaf, str) else float(leaf), calls)]
    if not fresh:
        return None  # a flag, or values other calls use already: no record of its own
    return new if all(isinstance(v, bool) or grounding.is_grounded(v, here, k)
                      for k, v in changed.items()) else None


def _open_part_call(model: BaseChatModel, req: Request, evidence: grounding.Evidence,
                    calls: list[ToolCall], values: list[str | float],
                    open_values: list[str | float], asked: set[str], tried: set[str],
                    schema: dict) -> tuple[ToolCall | None, RawOutput | None]:
    """A call for the first part of the request (``tooldocs.aspects``) that writes a value no
    call uses yet, asked for from that part alone ("… the stock forecast for Microsoft
    Corporation for the next 45 days using the LSTM model"), kept when it passes ``_new_call``,
    every value it uses is written there or is the value another call to its tool gives
    ("… against the same company"), each value is a value of its own
    (``grounding.not_own_values``, nor "company" for ``company_name``) and its required values
    are not those of another call to its tool (a record called already, given more options);
    each part is asked once (``tried``). (None, the reply)
    when the call is not kept, (None, None) when no part was asked. ``schema``: one call of the
    offered tools (``more_calls`` builds it once)."""
    from ..rag.tooldocs import aspects

    for part in aspects(_user_text(req)):
        if part in tried:
            continue
        here = grounding.Evidence(part)
        if not any(here.has_number(v) if isinstance(v, float) else here.has_word(v)
                   for v in open_values):
            continue
        tried.add(part)
        more = _continue_part(model, req, part, schema)
        if more is None:
            return None, None
        new = _new_call(more.text, req, evidence, calls, values, open_values, asked)
        if new is None:
            return None, more
        same = [c for c in calls if c.name == new.name]  # "against the same company"
        spec = next(t for t in req.tools if t.name == new.name)
        required = spec.parameters.get("required") or []
        kept = all(isinstance(v, bool) or grounding.is_grounded(v, here, k)
                   or any(c.arguments.get(k) == v for c in same)
                   for k, v in new.arguments.items()) and not (
            # a value that is no value of its own ("company" for ``company_name``), or a
            # record another call already is (the same required values: only more options)
            grounding.not_own_values(new, spec, evidence)
            or any(isinstance(v, str) and _names_itself(k, v) for k, v in new.arguments.items())
            or any(all(c.arguments.get(k) == new.arguments.get(k) for k in required)
                   for c in same))
        return (new, more) if kept else (None, more)
    return None, None


def _spare_tool_call(model: BaseChatModel, req: Request, evidence: grounding.Evidence,
                     calls: list[ToolCall], head: str, offered: list, tried: set[str],
                     values: list[str | float]) -> tuple[ToolCall | None, RawOutput | None]:
    """When nothing else adds a call, a call to each offered tool no call uses yet (a reply
    of several tools usually needs every one offered: 178 of BFCL's 200 parallel_multiple
    requests): the model asked for that tool's call after the others, kept when the request
    gives every one of its required values and it uses one of the request's ``values`` that
    no other call uses. Returns the call (or None) and the replies asked for (their usage)."""
    open_values = [v for v in values if not grounding.covered(v, calls)]
    if not open_values:
        return None, None
    spent: RawOutput | None = None  # the replies asked for, their usage summed
    for spec in [t for t in offered if t.name in _uncalled(offered, calls)
                 and t.name not in tried]:
        tried.add(spec.name)
        more = model._continue(req, head + ", ", call_schema(spec))
        if more is None:
            break
        spent = more if spent is None else replace(more, usage=spent.usage + more.usage)
        new = _one_call(more.text, req)
        if new is None or new.name != spec.name or not spec.parameters.get("required") \
                or grounding.ungrounded_required(new, spec, evidence):
            continue
        if any(grounding.covered(v, [new]) for v in open_values):
            return new, spent
    return None, spent


def _names_itself(key: str, value: str) -> bool:
    """``value`` is only words of its parameter's own name ("company" for ``company_name``):
    what a model writes for a value the part it reads does not give."""
    words = re.findall(r"[a-z]+", value.lower())
    return bool(words) and set(words) <= set(fanout.name_words(key))


def _within(call: ToolCall, part: str) -> bool:
    """Whether every value of ``call`` (flags aside) is written in ``part``."""
    evidence = grounding.Evidence(part)
    return all(grounding.is_grounded(v, evidence, k) for k, v in call.arguments.items()
               if not isinstance(v, bool))


_OPEN = '{"tool_calls": ['


def _continue_part(model: BaseChatModel, req: Request, part: str, schema: dict
                   ) -> RawOutput | None:
    """One call written for ``part`` of the request alone (the part that asks for the tool
    ``schema`` calls: "… Also find the product of the first five prime numbers."), as if it
    were the whole request: the model reads its values there, not in the other parts. A
    required value that is no value of its own in the part (a number copied from another
    argument: "from x=1 to x=5" read as a = 1, b = 1) is decoded again there, as a reply of
    one call is (``redecode``)."""
    messages = list(req.messages)
    last = max(i for i, m in enumerate(messages) if m.role == "user")
    messages[last] = Message(role="user", content=part)
    alone = replace(req, messages=messages)
    more = model._continue(alone, _OPEN, schema)
    if more is None:
        return None
    reply = type(more)(text=f"{_OPEN}{more.text.rstrip()}]}}", usage=more.usage,
                       finish_reason=more.finish_reason, repairs=more.repairs)
    fixed = redecode.redecode(model, alone, reply)
    if fixed is reply:
        return more
    return type(more)(text=fixed.text[len(_OPEN):-2], usage=fixed.usage,
                      finish_reason=more.finish_reason, repairs=fixed.repairs)


def _uncalled(tools: list, calls: list[ToolCall]) -> list[str]:
    """The offered tools no call uses yet (when there is a choice of several)."""
    called = {c.name for c in calls}
    return [t.name for t in tools if t.name not in called] if len(tools) > 1 else []


def _adds_more_than_it_repeats(
    new: ToolCall, used: list[str | float], open_values: list[str | float]
) -> bool:
    """At least one argument of ``new`` uses a value no call used yet, and no fewer of its
    arguments do that than repeat values earlier calls already used (a call that only reshuffles
    used values is not one the request asked for)."""
    fresh = repeats = 0
    for key, value in new.arguments.items():
        one = [ToolCall(name=new.name, arguments={key: value})]
        if any(grounding.covered(v, one) for v in open_values):
            fresh += 1
        elif any(grounding.covered(v, one) for v in used):
            repeats += 1
    return fresh >= 1 and fresh >= repeats

