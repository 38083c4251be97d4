"""DEMO data for govops: made-up, clearly labelled series for demonstrations and tests.

Nothing in this package is a real statistic. :mod:`govops.demo.generator` produces believable but
invented monthly, quarterly and annual values for every stored indicator of the shipped catalogue,
for the nation and the 34 provinces, from the hand-set profiles in ``profiles.yaml``.
"""
