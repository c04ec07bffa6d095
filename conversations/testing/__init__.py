"""Test and benchmark helpers that speak real protocols (fake ChatFlow, live processes)."""
