"""Backup Copy Console: backup jobs, backup copy jobs and restores by the 3-2-1 rule."""

__version__ = "0.1.0"
