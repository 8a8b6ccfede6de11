"""The failover figures of make chaos's cluster part, from kill times and the sockets' arrivals."""
from chaos.failover import after_kills, summary


def test_events_flow_again_with_the_first_arrival_of_an_event_after_the_kill():
    # A change every half second; the kill at 100 holds everything that occurred in 99.8 … 102.5 until 103.
    arrivals = [(t / 2, t / 2 + 0.01) for t in range(190, 200)]
    arrivals += [(t / 2, 103.0) for t in range(200, 206)] + [(t / 2, t / 2 + 0.01) for t in range(206, 220)]
    [entry] = after_kills([100.0], arrivals)
    assert entry == {"flowing_after_s": 3.0, "longest_delay_s": 3.0}


def test_an_event_held_from_before_the_kill_sets_the_longest_delay():
    arrivals = [(99.5, 104.0), (100.5, 100.6)]
    assert after_kills([100.0], arrivals) == [{"flowing_after_s": 0.6, "longest_delay_s": 4.5}]


def test_a_kill_after_which_nothing_arrived_is_counted_apart():
    entries = after_kills([10.0, 100.0], [(11.0, 12.0), (50.0, 50.1)])
    assert entries[1] == {"flowing_after_s": None, "longest_delay_s": None}
    result = summary(entries)
    assert result["never_flowed"] == 1
    assert result["flowing_after_s"] == {"p50": 2.0, "max": 2.0}
    assert result["longest_delay_s"] == {"p50": 1.0, "max": 1.0}
