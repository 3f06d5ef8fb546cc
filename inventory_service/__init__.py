"""Clinic supplies, vaccine cold chain and equipment service."""

__version__ = "0.1.0"
