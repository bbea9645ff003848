"""Bundled sample cities and the generator that makes more."""
