"""A recovery case and how it moves through the playbook: plain Python."""
