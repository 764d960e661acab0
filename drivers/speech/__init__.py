"""Spoken guidance: the screens read aloud through a local speech engine (espeak-ng)."""
