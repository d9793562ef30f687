"""What the report renders (benchmarks/report/)."""
