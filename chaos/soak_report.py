"""The soak's criteria: which of its figures must hold for the run to pass."""
from __future__ import annotations

MEMORY_TOLERANCE_PCT = 10.0
RATE_TOLERANCE_PCT = 10.0
TOO_SLOW, NO_PONG = 1013, 1008  # the relay's two ways of dropping a client that does not read


def criteria(result: dict) -> tuple[dict, list[str]]:
    """Each criterion of the soak with whether it held; and the names of those that did not."""
    load, requests_, sockets, slow, memory = (result["load"], result["requests"], result["websockets"],
                                              result["slow_socket"], result["memory"])
    target = load["target_requests_per_s"]
    rate_off = abs(load["achieved_requests_per_s"] - target) * 100 / target
    held = {
        "no_http_errors": requests_["error_total"] == 0,
        "rate_within_10pct_of_half_capacity": rate_off <= RATE_TOLERANCE_PCT,
        "no_reading_socket_closed": sockets["unexpected_closes"] == 0,
        "every_reading_socket_kept_receiving": sockets["sockets_without_a_message_in_the_second_half"] == 0,
        "no_task_event_lost_to_an_admin": sockets["admin_task_events_min_max"][0]
                                          >= requests_["writes_acknowledged_since_sockets_opened"],
        "every_socket_of_a_user_got_the_same": sockets["users_whose_sockets_got_different_counts"] == 0,
        "slow_socket_dropped": slow["dropped"] and slow["close_code"] in (TOO_SLOW, NO_PONG)
                               and "still open" not in slow["client_view"]["how"],
        "memory_flat_within_10pct": all(p["flat"] for p in memory["processes"].values()),
        "no_process_replaced": not memory["replaced_processes"],
        "no_error_in_logs": not result["log_errors"],
    }
    return held, [name for name, ok in held.items() if not ok]
