"""The command line's own part: the terminal renderer runpipeline streams to (an event sink)."""
