from datetime import date

from inventory_service.domain.station import Act, Label, Mode, NewState, Reject, StationState, decide

RECEIVE = StationState(Mode.RECEIVE, Mode.RECEIVE)
PRODUCT = Label(kind="gs1", gtin="09501101530003", lot="L1", expiry=date(2027, 1, 31))


def cmd(name: str, arg: str | None = None) -> Label:
    return Label(kind="command", command=name, argument=arg)


def test_a_product_label_in_receive_mode_receives_one():
    d = decide(RECEIVE, PRODUCT)
    assert isinstance(d, Act) and (d.mode, d.quantity) == (Mode.RECEIVE, 1)


def test_qty_card_sets_the_quantity_of_the_next_scan_only():
    d = decide(RECEIVE, cmd("qty", "12"))
    assert isinstance(d, NewState)
    act = decide(d.state, PRODUCT)
    assert isinstance(act, Act) and act.quantity == 12
    assert act.state.pending_quantity is None


def test_a_quantity_printed_on_the_label_wins_over_one():
    act = decide(RECEIVE, Label(kind="gs1", gtin="09501101530003", lot="L1", quantity=10))
    assert isinstance(act, Act) and act.quantity == 10


def test_mode_cards_switch_mode_and_done_returns_home():
    d = decide(RECEIVE, cmd("mode", "consume"))
    assert isinstance(d, NewState) and d.state.mode is Mode.CONSUME
    back = decide(d.state, cmd("done"))
    assert isinstance(back, NewState) and back.state.mode is Mode.RECEIVE and not back.finish_count


def test_count_collects_until_done_and_blocks_mode_changes_meanwhile():
    counting = decide(RECEIVE, cmd("mode", "count"))
    assert isinstance(counting, NewState)
    act = decide(counting.state, PRODUCT)
    assert isinstance(act, Act) and act.state.count_open
    refused = decide(act.state, cmd("mode", "receive"))
    assert isinstance(refused, Reject) and refused.reason == "count_open"
    done = decide(act.state, cmd("done"))
    assert isinstance(done, NewState) and done.finish_count and done.state.mode is Mode.RECEIVE


def test_transfer_needs_a_destination_first():
    transfer = StationState(Mode.TRANSFER, Mode.RECEIVE)
    assert decide(transfer, PRODUCT) == Reject("no_target_location",
                                               "No destination yet – scan the location label of where it goes")
    d = decide(transfer, cmd("loc", "EX1"))
    assert isinstance(d, NewState)
    act = decide(d.state, PRODUCT)
    assert isinstance(act, Act) and act.target_location == "EX1"


def test_a_bad_check_character_is_rejected_as_such():
    d = decide(RECEIVE, Label(kind="hibc", error="bad_check_character"))
    assert isinstance(d, Reject) and d.reason == "bad_check_character"


def test_ambiguous_labels_need_confirmation_and_are_never_applied():
    d = decide(RECEIVE, Label(kind="gs1", gtin="07032069804988", lot="0329", needs_confirmation=True))
    assert isinstance(d, Reject) and d.reason == "needs_confirmation"


def test_garbage_is_unparseable():
    d = decide(RECEIVE, Label(kind="unknown", error="unparseable"))
    assert isinstance(d, Reject) and d.reason == "unparseable"


def test_a_zero_quantity_card_is_refused():
    d = decide(RECEIVE, cmd("qty", "0"))
    assert isinstance(d, Reject) and d.reason == "bad_quantity"
