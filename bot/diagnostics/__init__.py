"""Read-only diagnostics (issue 22): the scripts the admin runs, reading what they print back,
and what it says about the case. Plain Python only."""
