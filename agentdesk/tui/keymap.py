"""The keys in force: the user's ``[keys]`` remapping and ``single_key_shortcuts``, checked before start.

Textual applies a keymap (binding id → keys) one widget at a time and cannot see
that a key given to the screen is taken by the focused list below it. So the
keymap is resolved here, once, against every binding of the workstation, grouped
by the places where they are in force together (:data:`PLACES`): an unknown id, a
key Textual does not know, or a key that would hide another action in the same
place stops the start with one line naming the settings file.

``single_key_shortcuts = false`` (WCAG 2.1.4): every binding loses its keys that
type one character; one that is left with none gets a modifier chord instead
(``r`` → ``alt+r``, ``D`` → ``alt+shift+d``; :data:`CHORDS` for the rest).
"""

from __future__ import annotations

import importlib
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, format_key
from textual.screen import Screen

from agentdesk.config import Settings

MODIFIERS = frozenset({"ctrl", "alt", "shift", "super", "meta", "hyper"})

PLACES: dict[str, tuple[str, ...]] = {
    "the queue screen": ("app:AgentDeskApp", "screens.queue:QueueScreen", "widgets.queue_list:QueueList",
                         "screens.queue:SearchInput", "widgets.queue_list:SearchResults"),
    "the customer screen": ("app:AgentDeskApp", "screens.customer:CustomerScreen",
                            "widgets.timeline:TimelineView", "screens.customer:EntryBody",
                            "screens.customer:SidePanel"),
    "the adjust dialog": ("screens.adjust:AdjustScreen", "screens.adjust:KindPicker", "screens.adjust:EntryInput"),
    "the approvals screen": ("app:AgentDeskApp", "screens.approvals:ApprovalsScreen",
                             "widgets.approval_list:ApprovalList"),
    "the help screen": ("screens.help:HelpScreen", "screens.help:HelpBody"),
    "the notices screen": ("screens.notices:NoticesScreen", "screens.notices:NoticesBody"),
    "the question dialog": ("screens.prompt:PromptScreen", "screens.prompt:PromptInput"),
    "the contact dialog": ("screens.contact:ContactScreen", "screens.contact:ChoiceRow",
                           "screens.contact:SummaryInput"),
    "the reply editor": ("screens.reply:ReplyScreen",),
    "the floor screen": ("app:AgentDeskApp", "screens.floor:FloorScreen", "screens.floor:FloorList"),
    "the knowledge screen": ("screens.knowledge:KnowledgeScreen", "screens.knowledge:KnowledgeQuery",
                             "screens.knowledge:ArticleList", "screens.knowledge:ArticleBody"),
}
"""Where bindings are in force together: each screen with the widgets on it and, below a full
screen, the app (a dialog, Textual's modal screen, keeps the app's keys out).

``module:Class`` under ``agentdesk.tui``; a test checks that these are the classes
really found in the binding chains of each screen.
"""

CHORDS: dict[str, str] = {"slash": "ctrl+f"}
"""Chords for one-character keys that are not letters or digits (``alt+/`` does not reach us in most terminals)."""


class KeymapError(ValueError):
    """A keymap that cannot be used; one line: ``<file>: keys.<id>: <what is wrong>``."""


@dataclass(frozen=True, slots=True)
class BoundAction:
    """One action as declared on one class: its place, owner, binding and default keys."""

    place: str
    owner: str
    binding: Binding
    keys: tuple[str, ...]


def place_classes(place: str) -> list[type[DOMNode]]:
    classes = []
    for name in PLACES[place]:
        module, _, attribute = name.partition(":")
        classes.append(getattr(importlib.import_module(f"agentdesk.tui.{module}"), attribute))
    return classes


@cache
def declared_bindings() -> tuple[BoundAction, ...]:
    """Every binding with an id, in every place, as the classes declare it (inherited ones included)."""
    found = []
    for place in PLACES:
        for cls in place_classes(place):
            keys: dict[str, list[str]] = {}
            first: dict[str, Binding] = {}
            for key, binding in cls._merged_bindings or ():
                if binding.id is not None:
                    first.setdefault(binding.id, binding)
                    keys.setdefault(binding.id, []).append(key)
            found += [BoundAction(place, cls.__name__, first[binding_id], tuple(dict.fromkeys(keys[binding_id])))
                      for binding_id in first]
    return tuple(found)


def known_ids() -> frozenset[str]:
    return frozenset(bound.binding.id for bound in declared_bindings() if bound.binding.id)


# --------------------------------------------------------------------------- key names


@cache
def _key_names() -> frozenset[str]:
    names = {key.value.rpartition("+")[2] for key in Keys}
    names |= {_character_to_key(character) for character in string.printable if character.isprintable()}
    return frozenset(names)


def normalise_key(key: str) -> str:
    """``?`` → ``question_mark``, ``Ctrl+F`` → ``ctrl+f``; a lone letter keeps its case (``G`` is shift+g)."""
    *modifiers, name = key.strip().split("+") if key.strip() != "+" else ["+"]
    if len(name) == 1:
        name = _character_to_key(name.lower() if modifiers else name)
    elif name.lower() in _key_names():
        name = name.lower()
    return "+".join([modifier.lower() for modifier in modifiers] + [name])


def key_problem(key: str) -> str | None:
    """Why Textual would never deliver ``key`` (normalised), or None when it is a key."""
    *modifiers, name = key.split("+")
    unknown = [modifier for modifier in modifiers if modifier not in MODIFIERS]
    if unknown:
        return f"{unknown[0]!r} is not a modifier (use {', '.join(sorted(MODIFIERS))})"
    if len(modifiers) != len(set(modifiers)):
        return "a modifier is named twice"
    if name not in _key_names() and len(name) != 1:
        return f"{name!r} is not a key name (examples: f5, ctrl+r, alt+r, pageup, escape, question_mark)"
    return None


def is_single_character(key: str) -> bool:
    """Does ``key`` type one character (``r``, ``G``, ``slash``, ``space``, ``shift+d``)?"""
    *modifiers, name = key.split("+")
    if any(modifier != "shift" for modifier in modifiers):
        return False
    return len(name) == 1 or name == "space" or (name in _key_names() and _is_character_name(name))


@cache
def _is_character_name(name: str) -> bool:
    return any(_character_to_key(character) == name
               for character in string.printable if character.isprintable())


def chord_for(key: str) -> str:
    """The modifier chord that stands in for a one-character key."""
    *modifiers, name = key.split("+")
    if len(name) == 1 and name.isalnum():
        shifted = name.isupper() or "shift" in modifiers
        return f"alt+shift+{name.lower()}" if shifted else f"alt+{name}"
    if name in CHORDS:
        return CHORDS[name]
    raise KeymapError(f"no chord stands in for the one-character key {key!r}; remap it in [keys]")


# --------------------------------------------------------------------------- resolving


def resolve_keymap(settings: Settings) -> dict[str, str]:
    """The keymap for :meth:`textual.app.App.set_keymap`: binding id → ``"key,key"``.

    Empty (and nothing imported) when the user remaps nothing and keeps one-character keys.
    Raises :class:`KeymapError` with one line naming the settings file.
    """
    if not settings.keys and settings.single_key_shortcuts:
        return {}
    source = settings.source or "settings"
    ids = known_ids()
    wanted: dict[str, tuple[str, ...]] = {}
    for binding_id, keys in settings.keys.items():
        where = f"{source}: keys.{binding_id}"
        if binding_id not in ids:
            raise KeymapError(f"{where}: no key has this id (the help screen, ? or f1, lists every id)")
        normalised = []
        for key in keys:
            key_name = normalise_key(key)
            problem = key_problem(key_name)
            if problem:
                raise KeymapError(f"{where}: {key!r}: {problem}")
            if not settings.single_key_shortcuts and is_single_character(key_name):
                raise KeymapError(f"{where}: {key!r} types a character, but single_key_shortcuts = false; "
                                  f"use a chord such as {chord_for(key_name)!r}")
            normalised.append(key_name)
        wanted[binding_id] = tuple(dict.fromkeys(normalised))
    if not settings.single_key_shortcuts:
        for bound in declared_bindings():
            declared_id = bound.binding.id
            if declared_id is None or declared_id in wanted:
                continue
            keys = bound.keys
            if any(is_single_character(key) for key in keys):
                kept = tuple(key for key in keys if not is_single_character(key))
                wanted[declared_id] = kept or tuple(dict.fromkeys(chord_for(key) for key in keys))
    _check_clashes(wanted, str(source))
    return {binding_id: ",".join(keys) for binding_id, keys in wanted.items()}


def keys_in_force(bound: BoundAction, keymap: Mapping[str, str]) -> tuple[str, ...]:
    """The keys of ``bound`` once ``keymap`` is applied."""
    binding_id = bound.binding.id
    if binding_id is not None and binding_id in keymap:
        return tuple(keymap[binding_id].split(","))
    return bound.keys


def _check_clashes(wanted: Mapping[str, tuple[str, ...]], source: str) -> None:
    """A key changed by the keymap must not be the key of another action in the same place.

    Pairs that share a key by default are left alone: the defaults shadow on purpose
    (escape in the detail pane returns to the timeline before it would leave the customer).
    """
    keymap = {binding_id: ",".join(keys) for binding_id, keys in wanted.items()}
    for place in PLACES:
        before = _holders(place, {})
        for key, bound_here in _holders(place, keymap).items():
            ids = list(dict.fromkeys(bound.binding.id for bound in bound_here))
            together_before = {bound.binding.id for bound in before.get(key, [])}
            for mine in (binding_id for binding_id in ids if binding_id in wanted):
                for other in bound_here:
                    other_id = other.binding.id
                    if other_id != mine and not {mine, other_id} <= together_before:
                        raise KeymapError(
                            f"{source}: keys.{mine}: {format_key(key)!r} is already the key of {other_id} "
                            f"({other.binding.description}) on {place}; give one of them another key")


def _holders(place: str, keymap: Mapping[str, str]) -> dict[str, list[BoundAction]]:
    holders: dict[str, list[BoundAction]] = {}
    for bound in _in_place(place):
        for key in keys_in_force(bound, keymap):
            holders.setdefault(key, []).append(bound)
    return holders


def _in_place(place: str) -> Iterable[BoundAction]:
    return (bound for bound in declared_bindings() if bound.place == place)


def keys_shown(screen: Screen, action: str, node: DOMNode | None = None) -> list[str]:
    """The keys in force for ``action`` on ``screen`` (keymap applied), as the key bar shows them.

    ``node``: only a binding of that node counts (a screen's own ``escalate``, not a dialog's).
    """
    shown = [screen.app.get_key_display(active.binding) for active in screen.active_bindings.values()
             if active.binding.action == action and (node is None or active.node is node)]
    return list(dict.fromkeys(shown))


def key_shown(screen: Screen, action: str, node: DOMNode | None = None) -> str | None:
    """The first of :func:`keys_shown`, or None when no key is in force for ``action``."""
    shown = keys_shown(screen, action, node)
    return shown[0] if shown else None
