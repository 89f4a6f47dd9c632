"""Benchmarks of the loss engine (``make bench``)."""
