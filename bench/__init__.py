"""stagecast's benchmarks: ``python -m bench [--quick]`` (see BENCHMARKS.md for the method and figures)."""
