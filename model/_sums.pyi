"""Types of the compiled inner loops (model/_sums.pyx)."""

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

WordEntry = tuple[bytes, bytes]
_T = TypeVar("_T")

class PairTable:
    def __init__(
        self,
        firsts: np.ndarray,
        seconds: np.ndarray,
        indices: np.ndarray,
        vocabulary_size: int,
    ) -> None: ...
    def __getitem__(self, pair: tuple[int, int]) -> int: ...

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
    pairs: PairTable | None,
    document: str,
) -> tuple[float, float]: ...
def terms(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    pairs: PairTable | None,
    document: str,
    vocabulary_order_from: int,
) -> tuple[list[int], list[float], float]: ...
def add_named(
    indices: list[int],
    values: list[float],
    norm: float,
    tokens: list[str],
    target: dict[str, float],
) -> list[float]: ...
def add_terms(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    pairs: PairTable | None,
    document: str,
    vocabulary_order_from: int,
    l2_norm: bool,
    tokens: list[str],
    target: dict[str, float],
) -> float: ...
def add_word_shares(
    part: PartTables,
    cache: dict[str, WordEntry],
    entry_of: Callable[[str], WordEntry],
    document: str,
    l2_norm: bool,
    share_key: Callable[[str], str],
    target: dict[str, float],
) -> float: ...
def top_items(contributions: dict[str, float], top: int, pair: type[_T]) -> list[_T]: ...
def contribution_dicts(
    items: list[tuple[str, float]] | list[Any], name_key: str, places: int
) -> list[dict[str, Any]]: ...
