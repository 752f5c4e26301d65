"""Numerical differentiation, the per-dtype error model, and kink handling."""
