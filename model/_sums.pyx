# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The scorer's inner loops in C: one document's sums and terms for one vectorizer.

`model/scorer.py` keeps plain-Python loops that give the same numbers; this module only makes
them cheaper. A document is split at white space; each word's entry (its tokens' pair ids and its
known unigram indices, both packed as int32) comes from a cache dict or, for a word not in it, from
`entry_of`, checked and then cached (the cache is emptied when full: simpler than least
recently used, and a comment's words come back). Pairs of adjacent tokens across the document
are looked up in `pairs` when given (word bigrams): a table keyed by the two tokens' pair ids,
where a Python dict keyed by "a b" needed a new string and a probe of the whole vocabulary.

Entries are fetched first (`entry_of` may run Python code, and so let other threads run). The
counting that follows never releases the GIL, so one count per token serves every thread, and
it is back to zero when a call returns.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Clear, PyDict_GetItem, PyDict_Next, PyDict_SetItem, PyDict_Size
from cpython.float cimport PyFloat_FromDouble
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport PyObject
from libc.math cimport fabs, log, round as c_round, sqrt
from libc.stdint cimport int32_t, uint32_t, uint64_t
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
        PyMem_Free(self.terms)  # a second __init__ must not leak the first array
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
    """The entry if it is two packed int32 bytes objects: C reads it without further checks."""
    if (
        type(entry) is not tuple
        or len(<tuple>entry) != 2
        or type((<tuple>entry)[0]) is not bytes
        or type((<tuple>entry)[1]) is not bytes
        or len((<tuple>entry)[0]) % 4
        or len((<tuple>entry)[1]) % 4
    ):
        raise TypeError(
            f"a word entry must be (pair ids, unigram indices), both packed int32, not {entry!r}"
        )
    return <tuple>entry


@cython.final
cdef class PairTable:
    """Word pairs of a vocabulary: (first token's pair id, second's) -> the pair's index.

    Open addressing over 64-bit keys; pair ids are numbers given to the tokens that occur in
    some pair (-1 for any other token, which can start or end no known pair).
    """

    cdef uint64_t* keys
    cdef int32_t* values  # -1: empty slot
    cdef uint64_t mask
    cdef Py_ssize_t vocabulary_size

    def __init__(
        self,
        const int32_t[::1] firsts,
        const int32_t[::1] seconds,
        const int32_t[::1] indices,
        Py_ssize_t vocabulary_size,
    ):
        cdef Py_ssize_t k, n = firsts.shape[0]
        cdef uint64_t size = 16, at, key
        if seconds.shape[0] != n or indices.shape[0] != n:
            raise ValueError("firsts, seconds and indices must have the same length")
        while size < 2 * <uint64_t>n:
            size *= 2
        self.mask = size - 1
        self.vocabulary_size = vocabulary_size
        PyMem_Free(self.keys)  # a second __init__ must not leak the first table
        PyMem_Free(self.values)
        self.keys = <uint64_t*>PyMem_Malloc(size * sizeof(uint64_t))
        self.values = <int32_t*>PyMem_Malloc(size * sizeof(int32_t))
        if self.keys is NULL or self.values is NULL:
            raise MemoryError()
        for at in range(size):
            self.values[at] = -1
        for k in range(n):
            if firsts[k] < 0 or seconds[k] < 0:
                raise ValueError("pair ids must not be negative")
            if indices[k] < 0 or indices[k] >= vocabulary_size:
                raise ValueError(f"token index {indices[k]} outside the vocabulary")
            key = _pair_key(firsts[k], seconds[k])
            at = self.slot(key)
            self.keys[at] = key
            self.values[at] = indices[k]

    def __dealloc__(self):
        PyMem_Free(self.keys)
        PyMem_Free(self.values)

    cdef inline uint64_t slot(self, uint64_t key) noexcept:
        cdef uint64_t at = (key * 0x9E3779B97F4A7C15ULL) >> 20 & self.mask
        while self.values[at] != -1 and self.keys[at] != key:
            at = (at + 1) & self.mask
        return at

    cdef inline int32_t find(self, int32_t first, int32_t second) noexcept:
        return self.values[self.slot(_pair_key(first, second))]

    def __getitem__(self, tuple pair):
        """The index of the pair (first, second), or -1 (for tests)."""
        return self.find(pair[0], pair[1])


cdef inline uint64_t _pair_key(int32_t first, int32_t second) noexcept:
    return (<uint64_t><uint32_t>first << 32) | <uint32_t>second


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
    PartTables part, dict cache, object entry_of, PairTable pairs, str document
):
    cdef _Occurrences found = _Occurrences.__new__(_Occurrences)
    cdef list entries = []
    cdef Py_ssize_t capacity = 0, tokens = 0
    cdef tuple entry
    found.words = document.split()
    for word in found.words:
        entry = _entry(part, cache, entry_of, word)
        capacity += PyBytes_GET_SIZE(entry[1]) // 4
        tokens += PyBytes_GET_SIZE(entry[0]) // 4
        entries.append(entry)
    if pairs is not None and tokens > 1:
        capacity += tokens - 1
    found.ids = <int32_t*>PyMem_Malloc((capacity + 1) * sizeof(int32_t))
    found.ends = <Py_ssize_t*>PyMem_Malloc((len(entries) + 1) * sizeof(Py_ssize_t))
    if found.ids is NULL or found.ends is NULL:
        raise MemoryError()
    _gather(entries, found, part.size)
    if pairs is not None and tokens > 1:
        if pairs.vocabulary_size > part.size:
            raise ValueError("the pair table indexes past this vocabulary")
        _pairs(entries, pairs, found)
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


cdef int _pairs(list entries, PairTable pairs, _Occurrences found) except -1:
    """Append the indices of known pairs of adjacent tokens across the entries' tokens."""
    cdef int32_t previous = -1, token, index
    cdef const int32_t* ids
    cdef Py_ssize_t k, n
    cdef tuple entry
    for entry in entries:
        ids = <const int32_t*>PyBytes_AS_STRING(entry[0])
        n = PyBytes_GET_SIZE(entry[0]) // 4
        for k in range(n):
            token = ids[k]
            if previous >= 0 and token >= 0:
                index = pairs.find(previous, token)
                if index >= 0:
                    found.ids[found.n] = index
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


def sums(PartTables part, dict cache, object entry_of, PairTable pairs, str document):
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


cdef int _ascending(const void* a, const void* b) noexcept nogil:
    return (<const int32_t*>a)[0] - (<const int32_t*>b)[0]


cdef Py_ssize_t _distinct(
    PartTables part, _Occurrences found, Py_ssize_t vocabulary_order_from
) noexcept:
    """Move each distinct index to the front of `found.ids`, its count negated to mark it seen
    (counts must be set); return how many there are.

    They come in order of first occurrence, or in vocabulary order from `vocabulary_order_from`
    occurrences on (the order ties keep in an explanation). `-count` is then each one's count;
    the caller sets it back to zero.
    """
    cdef Py_ssize_t k, distinct = 0
    cdef int32_t index, count
    for k in range(found.n):
        index = found.ids[k]
        count = part.terms[index].count
        if count > 0:  # first occurrence: keep it in place, mark it seen
            found.ids[distinct] = index
            distinct += 1
            part.terms[index].count = -count
    if found.n >= vocabulary_order_from:
        qsort(found.ids, distinct, sizeof(int32_t), _ascending)
    return distinct


def terms(PartTables part, dict cache, object entry_of, PairTable pairs, str document,
          Py_ssize_t vocabulary_order_from):
    """Return (distinct indices, their tf * weight, squares), indices in `_distinct`'s order."""
    cdef _Occurrences found = _occurrences(part, cache, entry_of, pairs, document)
    cdef Py_ssize_t k, distinct
    cdef int32_t index, count
    cdef double squares
    cdef list indices = [], values = []
    _count(part, found)
    squares = _squares(part, found)
    distinct = _distinct(part, found, vocabulary_order_from)
    for k in range(distinct):
        index = found.ids[k]
        count = -part.terms[index].count
        part.terms[index].count = 0
        indices.append(index)
        values.append(part.tf(count) * part.terms[index].weight)
    return indices, values, squares


def add_named(list indices, list values, double norm, list tokens, dict target):
    """Add each `values[k] / norm` into `target` under its token's name, `tokens[indices[k]]`;
    return the values added, in order.

    As scorer.py's `_add_into` adds: into an empty target each value goes as it is, else it is
    added to what the name has (0.0 if nothing). Into an empty dict this builds
    `{tokens[i]: v / norm for i, v in zip(indices, values)}`.
    """
    cdef Py_ssize_t k, index, size = len(tokens)
    cdef double value
    cdef bint fresh = PyDict_Size(target) == 0
    cdef list added = []
    if len(values) != len(indices):
        raise ValueError("indices and values must have the same length")
    for k in range(len(indices)):
        index = indices[k]
        if index < 0 or index >= size:
            raise IndexError(f"token index {index} outside the vocabulary")
        value = <double>values[k] / norm
        name = tokens[index]
        target[name] = value if fresh else target.get(name, 0.0) + value
        added.append(value)
    return added


cdef inline double _norm(double squares, bint l2_norm) noexcept:
    """The part's norm, as scorer.py's `_norm` gives it."""
    return sqrt(squares) if l2_norm else 1.0


def add_terms(PartTables part, dict cache, object entry_of, PairTable pairs, str document,
              Py_ssize_t vocabulary_order_from, bint l2_norm, list tokens, dict target):
    """`add_named(*terms(...), norm, tokens, target)` in one step; return the sum of the
    values added, in order: the part's log-odds.

    No list of indices, values or added values is built: about forty of each for a
    comment's words and word pairs.
    """
    cdef _Occurrences found = _occurrences(part, cache, entry_of, pairs, document)
    cdef Py_ssize_t k, distinct
    cdef int32_t index
    cdef double squares, norm, value, total = 0.0
    cdef double* values
    cdef bint fresh = PyDict_Size(target) == 0
    if len(tokens) != part.size:
        raise ValueError("tokens must name every token of the part")
    values = <double*>PyMem_Malloc((found.n + 1) * sizeof(double))
    if values is NULL:
        raise MemoryError()
    try:
        _count(part, found)
        squares = _squares(part, found)
        distinct = _distinct(part, found, vocabulary_order_from)
        for k in range(distinct):
            index = found.ids[k]
            values[k] = part.tf(-part.terms[index].count) * part.terms[index].weight
            part.terms[index].count = 0
        # Counts are all back to zero: Python code may run from here on.
        norm = _norm(squares, l2_norm)
        if not norm:
            return 0.0
        for k in range(distinct):
            value = values[k] / norm
            name = tokens[found.ids[k]]
            target[name] = value if fresh else target.get(name, 0.0) + value
            total += value
        return total
    finally:
        PyMem_Free(values)


def add_word_shares(PartTables part, dict cache, object entry_of, str document, bint l2_norm,
                    object share_key, dict target):
    """Add each word's share of the part's log-odds into `target` under `share_key(word)`;
    return the part's log-odds, dot / norm (0.0 without a known n-gram) (char n-grams).

    A token's contribution is shared among its occurrences, so words that repeat a token
    split its push. A word's shares are summed first (repeated words, in order of first
    occurrence), then added to the target as scorer.py's `_add_into` adds.
    """
    cdef _Occurrences found = _occurrences(part, cache, entry_of, None, document)
    cdef Py_ssize_t k = 0, w, n_words = len(found.words)
    cdef double dot = 0.0, word_dot, squares, norm
    cdef double* word_dots
    cdef Term* term
    cdef dict shares = {}
    word_dots = <double*>PyMem_Malloc((n_words + 1) * sizeof(double))
    if word_dots is NULL:
        raise MemoryError()
    try:
        _count(part, found)
        for w in range(n_words):
            word_dot = 0.0
            while k < found.ends[w]:
                term = &part.terms[found.ids[k]]
                word_dot += part.share(term.count) * term.weight
                k += 1
            word_dots[w] = word_dot
            dot += word_dot
        squares = _squares(part, found)
        _clear(part, found)
        # Counts are all back to zero: Python code may run from here on.
        norm = _norm(squares, l2_norm)
        if not squares or not norm:  # no known n-gram (idf >= 1, so squares > 0 with one)
            return 0.0
        # Every word gets its key, in order, even with no share: keys' order breaks ties.
        for w in range(n_words):
            key = share_key(found.words[w])
            shares[key] = shares.get(key, 0.0) + word_dots[w] / norm
    finally:
        PyMem_Free(word_dots)
    if PyDict_Size(target) == 0:
        target.update(shares)
    else:
        for key, value in shares.items():
            target[key] = target.get(key, 0.0) + value
    return dot / norm


cdef extern from *:
    """
    /* tuple.__new__(kind, (key, weight)) for a tuple subtype, without looking up and calling
       tuple.__new__ as a Python method (about half the cost of the whole call). */
    static PyObject* spamward_new_pair(PyObject* kind, PyObject* key, double weight) {
        PyObject* value = PyFloat_FromDouble(weight);
        if (value == NULL) return NULL;
        PyObject* items = PyTuple_Pack(2, key, value);
        Py_DECREF(value);
        if (items == NULL) return NULL;
        PyObject* args = PyTuple_Pack(1, items);
        Py_DECREF(items);
        if (args == NULL) return NULL;
        PyObject* made = PyTuple_Type.tp_new((PyTypeObject*)kind, args, NULL);
        Py_DECREF(args);
        return made;
    }
    """
    object _new_pair "spamward_new_pair"(object kind, object key, double weight)


def top_items(dict contributions, Py_ssize_t top, type pair):
    """`pair((key, weight))` for the `top` strongest pushes each way: spam first, then ham.

    `pair` is a tuple type (a named tuple of two), built as `tuple.__new__` builds it: its own
    `__new__`, which for a named tuple is Python code, is not called.

    The same as sorting the positive weights descending and the negative ones ascending, each
    stably (equal weights keep the dict's order), and keeping `top` of each: the buffers below
    take an item after every kept item of equal weight, in one pass over the dict.
    """
    cdef Py_ssize_t position = 0, count_spam = 0, count_ham = 0, i, slot
    cdef PyObject* key
    cdef PyObject* value
    cdef double weight
    cdef list result = []
    if not issubclass(pair, tuple):
        raise TypeError(f"pair must be a tuple type, not {pair!r}")
    if top <= 0:
        return result
    cdef double* spam_weights = <double*>PyMem_Malloc(2 * top * sizeof(double))
    cdef PyObject** spam_keys = <PyObject**>PyMem_Malloc(2 * top * sizeof(PyObject*))
    if spam_weights == NULL or spam_keys == NULL:
        PyMem_Free(spam_weights)
        PyMem_Free(spam_keys)
        raise MemoryError()
    cdef double* ham_weights = spam_weights + top
    cdef PyObject** ham_keys = spam_keys + top
    try:
        # Keys are borrowed from the dict, which nothing changes until they are used below.
        while PyDict_Next(contributions, &position, &key, &value):
            weight = <double>(<object>value)
            if weight > 0:
                slot = count_spam
                while slot > 0 and spam_weights[slot - 1] < weight:
                    slot -= 1
                if slot < top:
                    count_spam = _insert(spam_weights, spam_keys, count_spam, top, slot, weight, key)
            elif weight < 0:
                slot = count_ham
                while slot > 0 and ham_weights[slot - 1] > weight:
                    slot -= 1
                if slot < top:
                    count_ham = _insert(ham_weights, ham_keys, count_ham, top, slot, weight, key)
        for i in range(count_spam):
            result.append(_new_pair(pair, <object>spam_keys[i], spam_weights[i]))
        for i in range(count_ham):
            result.append(_new_pair(pair, <object>ham_keys[i], ham_weights[i]))
    finally:
        PyMem_Free(spam_weights)
        PyMem_Free(spam_keys)
    return result


cdef Py_ssize_t _insert(double* weights, PyObject** keys, Py_ssize_t count, Py_ssize_t top,
                        Py_ssize_t slot, double weight, PyObject* key) noexcept:
    """Put (weight, key) at `slot`, moving later items down and the last out when full."""
    cdef Py_ssize_t i
    if count < top:
        count += 1
    i = count - 1
    while i > slot:
        weights[i] = weights[i - 1]
        keys[i] = keys[i - 1]
        i -= 1
    weights[slot] = weight
    keys[slot] = key
    return count


# Below this, x * 10**places is a double within 2**-21 of the exact product: an integer part
# and a fraction clear of one half by more than _TIE_MARGIN round the same in both.
cdef double _EXACT_BELOW = 4294967296.0
cdef double _TIE_MARGIN = 1e-6


cdef object _rounded(double x, double scale, object places):
    """`round(x, places)`, with the usual case done in C.

    Python rounds the exact binary value of x to `places` decimals and returns the double
    nearest that decimal. Where x * scale is small and not within _TIE_MARGIN of a half, its
    nearest integer r is that decimal's digits, and r / scale (an exact integer over an exact
    power of ten, divided with one correct rounding) is the nearest double. Anything else
    (near a half, large, inf or NaN) goes to Python's round.
    """
    cdef double scaled = x * scale
    cdef double nearest
    if fabs(scaled) < _EXACT_BELOW:
        nearest = c_round(scaled)
        if fabs(scaled - nearest) < 0.5 - _TIE_MARGIN:
            return PyFloat_FromDouble(nearest / scale)
    return round(x, places)


def contribution_dicts(list items, str name_key, Py_ssize_t places):
    """`[{name_key: feature, "weight": round(weight, places)} for feature, weight in items]`.

    An explanation's JSON form: sixteen to twenty-odd items per explained check, where the
    Python comprehension's dicts and `round` calls cost more than choosing the items.
    """
    cdef list result = []
    cdef tuple pair
    cdef double scale = 1.0
    cdef Py_ssize_t k
    if not 0 <= places <= 15:
        raise ValueError(f"places must be 0 to 15, not {places}")
    for k in range(places):
        scale *= 10.0  # exact up to 10**22
    for item in items:
        if not isinstance(item, tuple) or len(<tuple>item) != 2:
            raise TypeError(f"an item must be a (feature, weight) pair, not {item!r}")
        pair = <tuple>item
        weight = pair[1]
        if type(weight) is float:
            weight = _rounded(<double>weight, scale, places)
        else:
            weight = round(weight, places)
        result.append({name_key: pair[0], "weight": weight})
    return result
