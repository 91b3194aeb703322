"""Adaptive Cards as data: the vocabulary (base), the typed button payloads (actions), the
walkthrough's cards and the support cards."""
