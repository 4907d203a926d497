"""Control groups: the contract's hash decides, the same everywhere."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.engine.holdout import held_out, holdout_point


class TestHoldout:
    """Who is held out of an incentive, and how many."""

    def test_the_guide_examples(self) -> None:
        """m-42 gets the welcome coupon, m-6 is in its 10% control group (docs, page 5)."""
        assert not held_out("welcome_coupon", "m-42", 0.10)
        assert held_out("welcome_coupon", "m-6", 0.10)

    @given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
    def test_the_contract_formula(self, incentive: str, member: str) -> None:
        """The point is the first 8 bytes of sha256('I:M'), big-endian, over 2^64."""
        digest = hashlib.sha256(f"{incentive}:{member}".encode()).digest()
        assert holdout_point(incentive, member) * 2**64 == int.from_bytes(digest[:8], "big")

    @given(st.text(min_size=1, max_size=10), st.floats(0, 1), st.floats(0, 1))
    def test_raising_the_share_only_adds_members(self, member: str, a: float, b: float) -> None:
        """Held out at a share means held out at every larger share."""
        low, high = sorted((a, b))
        if held_out("coupon", member, low):
            assert held_out("coupon", member, high)

    @pytest.mark.parametrize("share", [0.0, 1.0])
    def test_edges(self, share: float) -> None:
        """0% holds no one out; 100% holds everyone out."""
        members = [f"m-{i}" for i in range(200)]
        assert {held_out("gift", m, share) for m in members} == {share == 1.0}

    def test_share_of_a_population(self) -> None:
        """About 10% of 20,000 members are held out of a 10% holdout (within 1 point)."""
        held = sum(held_out("winback", f"m-{i}", 0.10) for i in range(20_000))
        assert 1800 <= held <= 2200

    def test_independent_per_incentive(self) -> None:
        """Being held out of one incentive says little about another."""
        both = sum(
            held_out("a", f"m-{i}", 0.5) and held_out("b", f"m-{i}", 0.5) for i in range(10_000)
        )
        assert 2300 <= both <= 2700
