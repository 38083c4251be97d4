"""Catalogue of indicators, areas and agencies."""
