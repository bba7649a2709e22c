"""The jobs on top of the stages: a run over vendors × accounts, the demo, the post-termination check,
merging shards, and the lock that keeps two runs off one database."""
