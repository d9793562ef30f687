"""The pure logic under every command: statistics, verdicts, regressions (benchmarks/core/)."""
