"""One turn: access check, de-duplication, the per-conversation lock, the dialog run, the flush and
the transcript; the services a turn uses, replies and the case's live card."""
