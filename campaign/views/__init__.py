"""Thin views: parse input, call a rule or a store, render."""
