"""Client-side walkthroughs of the seeds, shared by tests and `make demo`."""
