"""Each gdbench command as a user runs it (benchmarks/commands/)."""
