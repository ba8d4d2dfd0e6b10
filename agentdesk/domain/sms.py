# TEMPORARY STUB (lead): replaced by the outbound helper's module at merge. Delete before merging.
from dataclasses import dataclass


@dataclass(frozen=True)
class SmsLength:
    encoding: str
    units: int
    segments: int
    left_in_segment: int


def segments(text: str) -> SmsLength:
    n = len(text)
    return SmsLength("GSM-7", n, 1 if n <= 160 else -(-n // 153), 0)
