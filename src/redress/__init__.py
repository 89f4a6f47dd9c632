"""Redress: advance compensation for securities fraud."""

__version__ = "0.1.0"
