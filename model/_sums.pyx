# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The scorer's inner loops in C: one document's sums and terms for one vectorizer.

`model/scorer.py` keeps plain-Python loops that give the same numbers; this module only makes
them cheaper. A document is split at white space; each word's entry (its tokens and its known
unigram indices, packed as int32) comes from a cache dict or, for a word not in it, from
`entry_of`, checked and then cached (the cache is emptied when full: simpler than least
recently used, and a comment's words come back). Word pairs across the document are looked up
in `pairs` when given (word bigrams).

Entries are fetched first (`entry_of` may run Python code, and so let other threads run). The
counting that follows never releases the GIL, so one count array per vectorizer serves every
thread, and it is back to zero when a call returns.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Clear, PyDict_GetItem, PyDict_SetItem, PyDict_Size
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport PyObject
from libc.math cimport log
from libc.stdint cimport int32_t
from libc.stdlib cimport qsort


cdef struct Term:
    # What the loops read and write per occurrence, side by side: one cache line, not three.
    double weight
    double idf_squared
    int32_t count  # zero between calls


@cython.final
cdef class PartTables:
    """One vectorizer's weight, idf squared and count per token, and its tf tables."""

    cdef Term* terms
    # The tables are kept by their memoryviews; the loops read them through plain pointers.
    cdef const double[::1] tf_share_view, tf_square_share_view
    cdef const double* tf_share
    cdef const double* tf_square_share
    cdef Py_ssize_t table
    cdef bint binary
    cdef bint sublinear
    cdef Py_ssize_t size
    cdef Py_ssize_t cache_size

    def __init__(
        self,
        const double[::1] weights,
        const double[::1] idf_squared,
        tf_share,
        tf_square_share,
        bint binary,
        bint sublinear,
        Py_ssize_t cache_size,
    ):
        cdef Py_ssize_t index
        self.tf_share_view = tf_share
        self.tf_square_share_view = tf_square_share
        self.size = weights.shape[0]
        self.table = self.tf_share_view.shape[0]
        if idf_squared.shape[0] != self.size or self.size < 1:
            raise ValueError("weights and idf_squared must have one entry per token, at least one")
        if self.tf_square_share_view.shape[0] != self.table or self.table < 2:
            raise ValueError("the tf tables must have the same length, at least 2")
        self.terms = <Term*>PyMem_Malloc(self.size * sizeof(Term))
        if self.terms is NULL:
            raise MemoryError()
        for index in range(self.size):
            self.terms[index] = Term(weights[index], idf_squared[index], 0)
        self.tf_share = &self.tf_share_view[0]
        self.tf_square_share = &self.tf_square_share_view[0]
        self.binary = binary
        self.sublinear = sublinear
        self.cache_size = cache_size

    def __dealloc__(self):
        PyMem_Free(self.terms)

    cdef inline double tf(self, int32_t count) noexcept:
        if self.binary:
            return 1.0
        if self.sublinear:
            return log(<double>count) + 1.0
        return <double>count

    cdef inline double share(self, int32_t count) noexcept:
        """tf(count) / count: one occurrence's share of its token's tf."""
        if count < self.table:
            return self.tf_share[count]
        return self.tf(count) / count

    cdef inline double square_share(self, int32_t count) noexcept:
        """tf(count)**2 / count: one occurrence's share of its token's squared tf."""
        cdef double tf
        if count < self.table:
            return self.tf_square_share[count]
        tf = self.tf(count)
        return tf * tf / count


cdef tuple _checked(object entry):
    """The entry if it is (tokens tuple, packed int32 bytes): C reads it without further checks."""
    if (
        type(entry) is not tuple
        or len(<tuple>entry) != 2
        or type((<tuple>entry)[0]) is not tuple
        or type((<tuple>entry)[1]) is not bytes
        or len((<tuple>entry)[1]) % 4
    ):
        raise TypeError(f"a word entry must be (tuple of tokens, packed int32 bytes), not {entry!r}")
    for token in (<tuple>entry)[0]:
        if type(token) is not str:
            raise TypeError(f"a token must be a str, not {token!r}")
    return <tuple>entry


@cython.final
cdef class _Occurrences:
    """A document's known token indices, one per occurrence: each word's unigrams, then pairs.

    `ends[w]` is where word w's unigrams end, so per-word sums need no second look-up.
    """

    cdef int32_t* ids
    cdef Py_ssize_t* ends
    cdef Py_ssize_t n
    cdef list words

    def __dealloc__(self):
        PyMem_Free(self.ids)
        PyMem_Free(self.ends)


cdef tuple _entry(PartTables part, dict cache, object entry_of, object word):
    """A word's entry from the cache, or made, checked and cached."""
    cdef PyObject* cached = PyDict_GetItem(cache, word)
    if cached is not NULL:
        return <tuple>cached
    entry = _checked(entry_of(word))
    if PyDict_Size(cache) >= part.cache_size:
        PyDict_Clear(cache)
    PyDict_SetItem(cache, word, entry)
    return entry


cdef _Occurrences _occurrences(
    PartTables part, dict cache, object entry_of, dict pairs, str document
):
    cdef _Occurrences found = _Occurrences.__new__(_Occurrences)
    cdef list entries = []
    cdef Py_ssize_t capacity = 0, tokens = 0
    cdef tuple entry
    found.words = document.split()
    for word in found.words:
        entry = _entry(part, cache, entry_of, word)
        capacity += PyBytes_GET_SIZE(entry[1]) // 4
        tokens += len(<tuple>entry[0])
        entries.append(entry)
    if pairs is not None and tokens > 1:
        capacity += tokens - 1
    found.ids = <int32_t*>PyMem_Malloc((capacity + 1) * sizeof(int32_t))
    found.ends = <Py_ssize_t*>PyMem_Malloc((len(entries) + 1) * sizeof(Py_ssize_t))
    if found.ids is NULL or found.ends is NULL:
        raise MemoryError()
    _gather(entries, found, part.size)
    if pairs is not None and tokens > 1:
        _pairs(entries, pairs, found, part.size)
    return found


cdef int _gather(list entries, _Occurrences found, Py_ssize_t size) except -1:
    """Copy the entries' packed unigram indices in, noting where each word's end."""
    cdef Py_ssize_t k, n, w = 0
    cdef const int32_t* packed
    cdef tuple entry
    for entry in entries:
        packed = <const int32_t*>PyBytes_AS_STRING(entry[1])
        n = PyBytes_GET_SIZE(entry[1]) // 4
        for k in range(n):
            if packed[k] < 0 or packed[k] >= size:
                raise ValueError(f"token index {packed[k]} outside the vocabulary")
            found.ids[found.n] = packed[k]
            found.n += 1
        found.ends[w] = found.n
        w += 1
    return 0


cdef int _pairs(list entries, dict pairs, _Occurrences found, Py_ssize_t size) except -1:
    """Append the indices of known token pairs ("a b") across the entries' tokens."""
    cdef object previous = None, key
    cdef tuple entry
    cdef PyObject* index
    cdef long value
    for entry in entries:
        for token in <tuple>entry[0]:
            if previous is not None:
                key = previous + " " + token
                index = PyDict_GetItem(pairs, key)
                if index is not NULL:
                    value = <object>index
                    if value < 0 or value >= size:
                        raise ValueError(f"token index {value} outside the vocabulary")
                    found.ids[found.n] = <int32_t>value
                    found.n += 1
            previous = token
    return 0


cdef void _count(PartTables part, _Occurrences found) noexcept:
    cdef Py_ssize_t k
    for k in range(found.n):
        part.terms[found.ids[k]].count += 1


cdef void _clear(PartTables part, _Occurrences found) noexcept:
    cdef Py_ssize_t k
    for k in range(found.n):
        part.terms[found.ids[k]].count = 0


cdef double _squares(PartTables part, _Occurrences found) noexcept:
    """Sum over occurrences of tf(c)**2/c * idf**2: the squared norm (counts must be set)."""
    cdef Py_ssize_t k
    cdef double squares = 0.0
    cdef Term* term
    for k in range(found.n):
        term = &part.terms[found.ids[k]]
        squares += part.square_share(term.count) * term.idf_squared
    return squares


def sums(PartTables part, dict cache, object entry_of, dict pairs, str document):
    """Return (dot, squares): sums over occurrences of tf(c)/c * weight and tf(c)**2/c * idf**2.

    A token occurring c times contributes tf(c) * weight in all, so summing per occurrence
    needs no distinct ids.
    """
    cdef _Occurrences found = _occurrences(part, cache, entry_of, pairs, document)
    cdef Py_ssize_t k
    cdef double dot = 0.0, squares = 0.0
    cdef Term* term
    _count(part, found)
    for k in range(found.n):
        term = &part.terms[found.ids[k]]
        dot += part.share(term.count) * term.weight
        squares += part.square_share(term.count) * term.idf_squared
    _clear(part, found)
    return dot, squares


def word_sums(PartTables part, dict cache, object entry_of, str document):
    """Return (words, each word's share of the dot product, dot, squares) (char n-grams).

    A token's contribution is shared among its occurrences, so words that repeat a token
    split its push.
    """
    cdef _Occurrences found = _occurrences(part, cache, entry_of, None, document)
    cdef Py_ssize_t k = 0, w
    cdef double dot = 0.0, word_dot, squares
    cdef Term* term
    cdef list shares = []
    _count(part, found)
    for w in range(len(found.words)):
        word_dot = 0.0
        while k < found.ends[w]:
            term = &part.terms[found.ids[k]]
            word_dot += part.share(term.count) * term.weight
            k += 1
        shares.append(word_dot)
        dot += word_dot
    squares = _squares(part, found)
    _clear(part, found)
    return found.words, shares, dot, squares


cdef int _ascending(const void* a, const void* b) noexcept nogil:
    return (<const int32_t*>a)[0] - (<const int32_t*>b)[0]


def terms(PartTables part, dict cache, object entry_of, dict pairs, str document,
          Py_ssize_t vocabulary_order_from):
    """Return (distinct indices, their tf * weight, squares).

    Indices come in order of first occurrence, or in vocabulary order from
    `vocabulary_order_from` occurrences on (the order ties keep in an explanation).
    """
    cdef _Occurrences found = _occurrences(part, cache, entry_of, pairs, document)
    cdef Py_ssize_t k, distinct = 0
    cdef int32_t index, count
    cdef double squares
    cdef list indices = [], values = []
    _count(part, found)
    squares = _squares(part, found)
    for k in range(found.n):
        index = found.ids[k]
        count = part.terms[index].count
        if count > 0:  # first occurrence: keep it in place, mark it seen
            found.ids[distinct] = index
            distinct += 1
            part.terms[index].count = -count
    if found.n >= vocabulary_order_from:
        qsort(found.ids, distinct, sizeof(int32_t), _ascending)
    for k in range(distinct):
        index = found.ids[k]
        count = -part.terms[index].count
        part.terms[index].count = 0
        indices.append(index)
        values.append(part.tf(count) * part.terms[index].weight)
    return indices, values, squares
