"""Shipped style packs, one folder each (see ``inference.registry``)."""
