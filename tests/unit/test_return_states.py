"""The return lifecycle: forward only, skips allowed, cancel before receipt; a return awaiting
review only approved (open) or declined; when actions fire."""
import pytest

from app.domain.returns import FORWARD, HOLDS_TRACKING, TransitionRefused, action_fires, can_move, check_move
from app.domain.vocabulary import ReturnStatus

REQUESTED, OPEN, IN_TRANSIT, RECEIVED, PROCESSED, CLOSED, CANCELLED, DECLINED = ReturnStatus
APPROVED = FORWARD[FORWARD.index(OPEN):]  # the lifecycle once a return is open


@pytest.mark.parametrize("current, target", [(a, b) for i, a in enumerate(APPROVED) for b in APPROVED[i + 1:]])
def test_every_forward_move_and_skip_is_allowed(current, target):
    assert can_move(current, target)


@pytest.mark.parametrize("current, target", [(a, b) for i, a in enumerate(FORWARD) for b in FORWARD[:i + 1]])
def test_no_backward_or_same_state_move(current, target):
    assert not can_move(current, target)
    with pytest.raises(TransitionRefused):
        check_move(current, target)


@pytest.mark.parametrize("current, allowed", [(REQUESTED, False), (OPEN, True), (IN_TRANSIT, True), (RECEIVED, False),
                                              (PROCESSED, False), (CLOSED, False), (CANCELLED, False),
                                              (DECLINED, False)])
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
    assert not action_fires(action, DECLINED)
    assert not action_fires(action, REQUESTED)


def test_a_return_closed_straight_from_open_fires_under_every_setting():
    assert can_move(OPEN, CLOSED)
    assert all(action_fires(action, CLOSED) for action in ("first_scan", "processing", "manual"))


def test_a_return_awaiting_review_is_only_approved_or_declined():
    assert [t for t in ReturnStatus if can_move(REQUESTED, t)] == [OPEN, DECLINED]
    with pytest.raises(TransitionRefused, match="awaiting review"):
        check_move(REQUESTED, RECEIVED)


def test_nothing_leaves_declined_and_only_review_declines():
    assert not any(can_move(DECLINED, target) for target in ReturnStatus)
    assert [s for s in ReturnStatus if can_move(s, DECLINED)] == [REQUESTED]
    with pytest.raises(TransitionRefused, match="declined"):
        check_move(DECLINED, OPEN)


def test_no_tracking_number_is_held_before_approval_or_after_a_decline():
    assert REQUESTED not in HOLDS_TRACKING and DECLINED not in HOLDS_TRACKING
    assert HOLDS_TRACKING == (OPEN, IN_TRANSIT, RECEIVED, PROCESSED)
