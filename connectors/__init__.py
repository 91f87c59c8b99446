"""Connectors: one package per outside system."""
