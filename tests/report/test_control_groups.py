"""The goal of a grant, which decides whether a member of a control group counts as reached."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from club_population import DAY0, JOURNEY, load

from topo.report.control_groups import Goal, goal_of, next_nodes, reached_goal
from topo.report.walks import Grant, Step, Walk

AHEAD = JOURNEY.replace(
    "  - {from: [member, buyer], to: gone, on: unsubscribe}\n",
    "  - {from: [member, buyer], to: gone, on: unsubscribe}\n"
    "  - {id: requalify, from: vip, to: buyer, after: 365d, when: 'spend < 100'}\n",
).replace(
    "  - {at: buyer, toward: vip, incentive: nudge}\n",
    "  - {at: buyer, toward: vip, incentive: nudge}\n"
    "  - {at: vip, ahead_of: requalify, by: 30d, incentive: nudge}\n",
)


def grant(node: str, *, granted: bool = True, why: str = "enter", cause: str = "e-1",
          with_move: str | None = None, joining: bool = False, incentive: str = "welcome",
          ) -> Grant:  # fmt: skip
    return Grant(incentive, granted, why, DAY0, cause, node, 1, with_move, joining)


class TestNextNodes:
    def test_shortest_paths_toward_a_peak(self, tmp_path: Path) -> None:
        """Each node's next node on a shortest path to a peak; none from a peak or an exit."""
        ahead = next_nodes(load(tmp_path))
        assert ahead == {
            "visitor": {"member"}, "member": {"buyer"}, "buyer": {"vip"},
            "vip": frozenset(), "gone": frozenset(),
        }  # fmt: skip


class TestGoalOf:
    def test_on_enter_aims_at_the_next_node(self, tmp_path: Path) -> None:
        """welcome, granted on entering member: reach buyer."""
        journey = load(tmp_path)
        assert goal_of(journey, grant("member"), next_nodes(journey)) == Goal(
            "reach", frozenset({"buyer"})
        )

    def test_held_out_with_its_move(self, tmp_path: Path) -> None:
        """A holdout written right after the move into member is that node's on_enter."""
        journey = load(tmp_path)
        held = grant("member", granted=False, why="holdout", with_move="moves[0]")
        assert goal_of(journey, held, next_nodes(journey)).nodes == {"buyer"}

    def test_reminder_aims_at_toward(self, tmp_path: Path) -> None:
        """A reminder's grant (given, or held out without a move) aims at its toward."""
        journey = load(tmp_path)
        ahead = next_nodes(journey)
        given = grant("buyer", why="reminder", incentive="nudge")
        held = grant("buyer", granted=False, why="holdout", incentive="nudge")
        assert goal_of(journey, given, ahead) == Goal("reach", frozenset({"vip"}))
        assert goal_of(journey, held, ahead) == Goal("reach", frozenset({"vip"}))

    def test_at_a_peak_the_goal_is_to_stay(self, tmp_path: Path) -> None:
        """vip_gift, granted on entering vip: still at vip when the window ends."""
        journey = load(tmp_path)
        assert goal_of(journey, grant("vip", incentive="vip_gift"), next_nodes(journey)).kind == (
            "stay"
        )

    def test_ahead_of_reminder_aims_at_not_downgrading(self, tmp_path: Path) -> None:
        """A reminder ahead of a timer move names itself in the cause; its goal is not to
        take that move."""
        journey = load(tmp_path, AHEAD)
        cause = "timer:2026-12-01T00:00:00+00:00:reminders[1]"
        nudge = grant("vip", why="reminder", cause=cause, incentive="nudge")
        assert goal_of(journey, nudge, next_nodes(journey)) == Goal("avoid", move="requalify")


class TestReachedGoal:
    def walk(self, *steps: Step) -> Walk:
        return Walk(DAY0, "visitor", "x", DAY0, steps, (), ())

    def test_within_the_window_only(self) -> None:
        """Reaching the node 10 days after the grant counts in a 30-day window, not a 5-day."""
        member = self.walk(Step("m", "member", "buyer", DAY0 + timedelta(days=10), 2))
        goal = Goal("reach", frozenset({"buyer"}))
        g = grant("member")
        assert reached_goal(member, g, goal, timedelta(days=30), frozenset())
        assert not reached_goal(member, g, goal, timedelta(days=5), frozenset())

    def test_avoid_fails_on_the_move_or_an_exit(self) -> None:
        """An avoid goal fails when the member takes the timer move or leaves for an exit."""
        goal = Goal("avoid", move="requalify")
        g = grant("vip")
        down = self.walk(Step("requalify", "vip", "buyer", DAY0 + timedelta(days=3), 2))
        out = self.walk(Step("moves[3]", "vip", "gone", DAY0 + timedelta(days=3), 2))
        assert not reached_goal(down, g, goal, timedelta(days=30), frozenset({"gone"}))
        assert not reached_goal(out, g, goal, timedelta(days=30), frozenset({"gone"}))
        assert reached_goal(self.walk(), g, goal, timedelta(days=30), frozenset({"gone"}))
