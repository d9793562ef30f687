"""gdbench's command line, benchmark suite, runner and report."""
