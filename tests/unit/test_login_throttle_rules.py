"""The per-account slowdown of wrong passwords, as a rule: none up to the threshold, then doubling to a cap."""
from datetime import timedelta

from users_svc.throttling import ThrottleRules

RULES = ThrottleRules(max_per_pair=5, max_per_address=20, window=timedelta(seconds=300), slow_after=10,
                      max_delay_seconds=10)


def test_an_account_with_few_failures_answers_at_once():
    assert [RULES.delay_after_failure(failures) for failures in range(11)] == [0] * 11


def test_beyond_the_threshold_each_wrong_password_waits_twice_as_long_up_to_the_cap():
    assert [RULES.delay_after_failure(failures) for failures in range(11, 17)] == [1, 2, 4, 8, 10, 10]


def test_a_huge_number_of_failures_still_waits_only_the_cap():
    assert RULES.delay_after_failure(10**9) == 10
