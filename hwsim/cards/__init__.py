"""A virtual OpenPGP card (the parcel-card profile of docs/cards.md) behind pcscd's vpcd
reader, so the production PC/SC driver talks to it through the real PC/SC stack."""
