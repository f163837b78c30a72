"""Reliability: load, faults, hostile input and access, against the real app, CLI, model and index."""
