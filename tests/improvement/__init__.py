"""Tests of the improvement loops (P1-P7)."""
