"""Modelfiles: parsing and serialization."""
