"""Ways to show a run's findings."""
