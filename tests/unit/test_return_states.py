"""The return lifecycle: forward only, skips allowed, cancel before receipt; when actions fire."""
import pytest

from app.domain.returns import FORWARD, TransitionRefused, action_fires, can_move, check_move
from app.domain.vocabulary import ReturnStatus

OPEN, IN_TRANSIT, RECEIVED, PROCESSED, CLOSED, CANCELLED = ReturnStatus


@pytest.mark.parametrize("current, target", [(a, b) for i, a in enumerate(FORWARD) for b in FORWARD[i + 1:]])
def test_every_forward_move_and_skip_is_allowed(current, target):
    assert can_move(current, target)


@pytest.mark.parametrize("current, target", [(a, b) for i, a in enumerate(FORWARD) for b in FORWARD[:i + 1]])
def test_no_backward_or_same_state_move(current, target):
    assert not can_move(current, target)
    with pytest.raises(TransitionRefused):
        check_move(current, target)


@pytest.mark.parametrize("current, allowed", [(OPEN, True), (IN_TRANSIT, True), (RECEIVED, False),
                                              (PROCESSED, False), (CLOSED, False), (CANCELLED, False)])
def test_cancel_only_before_receipt(current, allowed):
    assert can_move(current, CANCELLED) is allowed


def test_nothing_leaves_cancelled():
    assert not any(can_move(CANCELLED, target) for target in FORWARD)


@pytest.mark.parametrize("action, fires_from", [("first_scan", IN_TRANSIT), ("processing", PROCESSED),
                                                ("manual", CLOSED)])
def test_the_action_fires_on_its_state_or_any_later_one(action, fires_from):
    for status in FORWARD:
        assert action_fires(action, status) is (FORWARD.index(status) >= FORWARD.index(fires_from))
    assert not action_fires(action, CANCELLED)


def test_a_return_closed_straight_from_open_fires_under_every_setting():
    assert can_move(OPEN, CLOSED)
    assert all(action_fires(action, CLOSED) for action in ("first_scan", "processing", "manual"))
