"""Types of the compiled inner loops (model/_sums.pyx)."""

from collections.abc import Callable

import numpy as np

WordEntry = tuple[tuple[str, ...], bytes]

class PartTables:
    def __init__(
        self,
        weights: np.ndarray,
        idf_squared: np.ndarray,
        tf_share: np.ndarray,
        tf_square_share: np.ndarray,
        binary: bool,
        sublinear: bool,
        cache_size: int,
    ) -> None: ...

def sums(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    pairs: dict[str, int] | None,
    document: str,
) -> tuple[float, float]: ...
def word_sums(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    document: str,
) -> tuple[list[str], list[float], float, float]: ...
def terms(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    pairs: dict[str, int] | None,
    document: str,
    vocabulary_order_from: int,
) -> tuple[list[int], list[float], float]: ...
