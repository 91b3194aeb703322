"""The HTTP edge and the turn pipeline: everything that speaks Bot Framework or Teams (with dialogs/)."""
