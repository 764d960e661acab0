"""Scripted runs of whole days against the real controller and the emulated devices."""
