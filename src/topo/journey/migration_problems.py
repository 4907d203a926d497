"""Where the migrations of a new version send stored members, and what would strand them.

A member stored under an old version passes through the new version's migrations
(:func:`destination`). A change is unsafe to publish when:

- a node of the old version is missing from the new one and no migration maps it
  (:func:`unmapped_nodes`);
- a migration sends members to a node the new version does not have (:func:`broken_migrations`);
- the journey changed but its version number is not higher than the old one's
  (:func:`version_problems`).

Each problem is a sentence for people that says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from topo.journey.model import Journey
from topo.journey.suggestions import did_you_mean

__all__ = ["broken_migrations", "destination", "unmapped_nodes", "version_problems", "via"]


def destination(node: str, version: int, new: Journey) -> tuple[str, tuple[int, ...]]:
    """Where a member stored at ``node`` under ``version`` goes in ``new``, and through which
    migrations (their ``from_version``).

    The member passes through every migration from its version onward, in the order the file
    lists them; each moves it when it maps the node the member is at by then.
    """
    steps: list[int] = []
    for migration in new.migrations:
        if version <= migration.from_version < new.version and node in migration.nodes:
            node = migration.nodes[node]
            steps.append(migration.from_version)
    return node, tuple(steps)


def via(steps: Sequence[int]) -> str:
    """The migrations a member passes through, in words (by their ``from_version``)."""
    if len(steps) == 1:
        return f"migration from version {steps[0]}"
    return f"migrations from versions {', '.join(map(str, steps[:-1]))} and {steps[-1]}"


def version_problems(old: Journey, new: Journey, changed: bool) -> Iterator[str]:
    """A version number that went down, or stayed while the journey ``changed`` otherwise."""
    if new.version < old.version:
        yield (
            f"the new version number {new.version} is lower than the old {old.version}: members "
            f"stored under version {old.version} would be read by an older journey; raise "
            f"`version` to {old.version + 1} (or were OLD and NEW given the other way round?)"
        )
    elif new.version == old.version and changed:
        yield (
            f"the journey changed but its version is still {new.version}: stored members record "
            "only the version number, so they could not tell the two apart and no migration could "
            f"apply to them; raise `version` to {old.version + 1}"
        )


def unmapped_nodes(old: Journey, new: Journey) -> Iterator[str]:
    """The nodes of ``old`` that ``new`` lacks and that no migration maps."""
    fresh = [node for node in new.nodes if node not in old.nodes]
    for node in old.nodes:
        if node in new.nodes or destination(node, old.version, new)[1]:
            continue  # a mapping to a missing node is reported as a broken migration
        yield (
            f"node {node!r} of version {old.version} is not in version {new.version}, and no "
            f"migration says where its members go; {_unmapped_fix(node, old, new, fresh)}"
        )


def _unmapped_fix(node: str, old: Journey, new: Journey, fresh: Sequence[str]) -> str:
    mapping = f"{node}: NODE"
    if any(m.from_version == old.version for m in new.migrations):
        fix = f"add `{mapping}` to the nodes of its migration from version {old.version}"
    else:
        fix = f"add `migrations: [{{from_version: {old.version}, nodes: {{{mapping}}}}}]`"
    if new.version <= old.version:
        fix = f"raise `version` above {old.version}, then {fix}"
    where = ", with NODE the node where its members should go now"
    hint = f" (new in version {new.version}: {', '.join(fresh)})" if fresh else ""
    return fix + where + hint


def broken_migrations(new: Journey) -> Iterator[str]:
    """The migrations of ``new`` that send members to a node it does not have."""
    for migration in new.migrations:
        for source, target in migration.nodes.items():
            if target not in new.nodes:
                yield (
                    f"the migration from version {migration.from_version} sends members at "
                    f"{source!r} to {target!r}, which is not a node of version {new.version}; "
                    f"map {source!r} to one of its nodes{did_you_mean(target, new.nodes)}"
                )
