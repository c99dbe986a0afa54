"""Chinese working days (工作日): public holidays and the adjusted working weekends (调休).

The State Council publishes each year's holidays in the preceding winter; the `chinese-calendar`
package carries them (update it yearly with `make lock`). A day of a year it does not know yet is
counted Monday to Friday, and `known` says so, so that a deadline can be shown as provisional.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def known(day: date) -> bool:
    """Whether the holiday calendar of `day`'s year is published (and carried by chinese-calendar)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """A working day: not a public holiday, and a weekday or an adjusted working weekend."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year not yet published: Monday to Friday
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (the day after start counts first)."""
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
