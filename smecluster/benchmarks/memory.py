"""Peak memory of this process."""

import resource


def peak_memory_mb() -> float:
    """Peak resident memory so far, in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
