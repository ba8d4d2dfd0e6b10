"""How long a backend token lives: light enough for the command-line parser to import."""

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650


def expiry_days_problem(days: int) -> str | None:
    """Why ``days`` is no token lifetime; None when it is one."""
    if 1 <= days <= MAX_EXPIRY_DAYS:
        return None
    return f"a token expires in 1 to {MAX_EXPIRY_DAYS} days, not {days}"
