"""The measuring machinery, never its speed (benchmarks/suite/)."""
