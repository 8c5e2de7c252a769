"""The contract suites of :mod:`crmcore.testing`, run against the shipped backends and notifiers."""
