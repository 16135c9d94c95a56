"""Scheduling: spec parsing (`specs`) and the pure planner (`planner`) the GUI and the headless service share."""

from console.core.scheduling.specs import (
    DEFAULT_HEALTH_CHECK,
    CopyWindow,
    HealthCheckSchedule,
    Schedule,
    format_interval,
    parse_health_check,
    parse_interval,
    parse_schedule,
    parse_window,
)

__all__ = [
    "DEFAULT_HEALTH_CHECK",
    "CopyWindow",
    "HealthCheckSchedule",
    "Schedule",
    "format_interval",
    "parse_health_check",
    "parse_interval",
    "parse_schedule",
    "parse_window",
]
