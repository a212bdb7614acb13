/*
 * Exact Ratcliff/Obershelp matching (difflib.SequenceMatcher with isjunk=None, autojunk=False)
 * on the code points of two Python strings.
 *
 * The matching blocks are the ones difflib finds, not an approximation: find_longest_match is
 * the same dynamic programme (longest run of equal code points, ties broken by the earliest
 * start in a, then the earliest start in b) and get_matching_blocks the same recursion on the
 * regions left and right of each block. What differs is the bookkeeping:
 *
 *   - b2j (code point -> positions in b) is a compressed index: each code point of b gets a
 *     small symbol id, positions are grouped by symbol (counting sort) and each run is searched
 *     with a binary search for the region's lower bound instead of skipping j < blo one by one.
 *   - j2len (a dict rebuilt for every i) becomes one array indexed by diagonal d = j - i, holding
 *     the length of the run ending on that diagonal and the "row stamp" at which it was written.
 *     A run extends only if the stamp is the previous row of the same call, so nothing is ever
 *     cleared: stamps grow across rows and calls, with a gap between calls.
 *   - Only the first call (the whole of a and b) scans every equal pair. It also records each
 *     maximal diagonal run of length >= 2 ("segment"). Every later region's runs are those
 *     segments cut to the region, so its longest match comes from the segments that can touch
 *     it, or, when it has no run of 2, from the first equal pair in row order (one binary search
 *     per row). A region falls back to the scan when that visits fewer cells than the segments.
 *
 * difflib's cost is O(equal pairs) per region, summed over the recursion; on real action pairs
 * the regions after the first hold ~75% of that work, which the segments replace. The GIL is
 * released for long pairs; buffers are per thread and reused between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t stamp; /* row stamp of the last match written on this diagonal */
    int32_t len;   /* length of the run ending there */
} DiagCell;

typedef struct {
    Py_ssize_t alo, ahi, blo, bhi;
} Region;

typedef struct {
    Py_ssize_t i, j, k;
} Block;

/* A maximal diagonal run of equal code points of length >= 2 over the whole of a and b. */
typedef struct {
    int32_t end_i, end_j, len;
} Segment;

/* Buffers kept per thread between calls, so a call allocates nothing once they are big enough.
 * The diagonal cells are never cleared between calls either: row stamps only grow, so a cell
 * written by an earlier call can never look like the previous row of the current one. */
typedef struct {
    int32_t *ints;
    size_t cap_ints;
    DiagCell *diag;
    size_t cap_diag;
    int32_t stamp; /* last row stamp used */
    Region *stack;
    size_t cap_stack;
    Block *blocks;
    size_t cap_blocks;
    Segment *segments;
    size_t cap_segments;
} Workspace;

typedef struct {
    Py_ssize_t la, lb;
    int32_t *asym; /* symbol of a[i], -1 when a[i] does not occur in b */
    int32_t *bsym; /* symbol of b[j] */
    int32_t *off;  /* positions of symbol s are pos[off[s] .. off[s+1]) */
    int32_t *pos;  /* positions in b grouped by symbol, ascending inside each group */
    DiagCell *diag; /* indexed by j - i + la */
    Workspace *ws;
    Py_ssize_t nstack;
    Py_ssize_t nblocks;
    Py_ssize_t matched; /* M: total size of the blocks */
    int keep_blocks;
    Py_ssize_t nsegments; /* segments of the whole-string match, ordered by (end_i, end_j) */
    Py_ssize_t max_segment;
    double pairs_per_cell; /* equal pairs / (la * lb): estimates a region's DP cost */
} Matcher;

static _Thread_local Workspace workspace;

/* Past this many bytes a workspace buffer is released after the call instead of kept. */
#define KEEP_LIMIT ((size_t)16 << 20)

static int
grow(void **buf, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need)
        cap2 *= 2;
    void *grown = realloc(*buf, cap2 * item);
    if (grown == NULL)
        return -1;
    *buf = grown;
    *cap = cap2;
    return 0;
}

/* ---------------------------------------------------------------- symbol tables */

static inline uint32_t
hash_cp(uint32_t c)
{
    return c * 2654435761u;
}

/* Gives each distinct code point of b a symbol id; fills bsym and asym. Returns nsym or -1. */
static Py_ssize_t
assign_symbols(Matcher *m, int akind, const void *adata, int bkind, const void *bdata)
{
    Py_ssize_t nsym = 0;
    if (bkind == PyUnicode_1BYTE_KIND) {
        int32_t table[256];
        memset(table, -1, sizeof(table));
        const Py_UCS1 *b = (const Py_UCS1 *)bdata;
        for (Py_ssize_t j = 0; j < m->lb; j++) {
            if (table[b[j]] < 0)
                table[b[j]] = (int32_t)nsym++;
            m->bsym[j] = table[b[j]];
        }
        for (Py_ssize_t i = 0; i < m->la; i++) {
            Py_UCS4 c = PyUnicode_READ(akind, adata, i);
            m->asym[i] = c < 256 ? table[c] : -1;
        }
        m->asym[m->la] = -2;
        m->bsym[m->lb] = -3;
        return nsym;
    }
    /* Wider strings: open addressing over the code points of b (0xFFFFFFFF is no code point). */
    size_t cap = 16;
    while (cap < (size_t)m->lb * 2)
        cap <<= 1;
    uint32_t *keys = (uint32_t *)malloc(cap * sizeof(uint32_t));
    int32_t *vals = (int32_t *)malloc(cap * sizeof(int32_t));
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return -1;
    }
    memset(keys, 0xFF, cap * sizeof(uint32_t));
    size_t mask = cap - 1;
    for (Py_ssize_t j = 0; j < m->lb; j++) {
        uint32_t c = PyUnicode_READ(bkind, bdata, j);
        size_t h = hash_cp(c) & mask;
        while (keys[h] != c && keys[h] != 0xFFFFFFFFu)
            h = (h + 1) & mask;
        if (keys[h] != c) {
            keys[h] = c;
            vals[h] = (int32_t)nsym++;
        }
        m->bsym[j] = vals[h];
    }
    for (Py_ssize_t i = 0; i < m->la; i++) {
        uint32_t c = PyUnicode_READ(akind, adata, i);
        size_t h = hash_cp(c) & mask;
        while (keys[h] != c && keys[h] != 0xFFFFFFFFu)
            h = (h + 1) & mask;
        m->asym[i] = keys[h] == c ? vals[h] : -1;
    }
    m->asym[m->la] = -2;
    m->bsym[m->lb] = -3;
    free(keys);
    free(vals);
    return nsym;
}

/* Counting sort of b's positions by symbol: the b2j index. */
static void
build_index(Matcher *m, Py_ssize_t nsym)
{
    memset(m->off, 0, (size_t)(nsym + 1) * sizeof(int32_t));
    for (Py_ssize_t j = 0; j < m->lb; j++)
        m->off[m->bsym[j] + 1]++;
    for (Py_ssize_t s = 0; s < nsym; s++)
        m->off[s + 1] += m->off[s];
    /* off[s] is used as a cursor and restored afterwards */
    for (Py_ssize_t j = 0; j < m->lb; j++)
        m->pos[m->off[m->bsym[j]]++] = (int32_t)j;
    for (Py_ssize_t s = nsym; s > 0; s--)
        m->off[s] = m->off[s - 1];
    m->off[0] = 0;
}

/* ---------------------------------------------------------------- matching */

static void
reset_diagonals(Workspace *ws, size_t from)
{
    for (size_t d = from; d < ws->cap_diag; d++) {
        ws->diag[d].stamp = INT32_MIN;
        ws->diag[d].len = 0;
    }
}

static inline const int32_t *
lower_bound(const int32_t *p, const int32_t *end, int32_t value)
{
    Py_ssize_t n = end - p;
    while (n > 0) {
        Py_ssize_t half = n >> 1;
        if (p[half] < value) {
            p += half + 1;
            n -= half + 1;
        }
        else {
            n = half;
        }
    }
    return p;
}

/* difflib.SequenceMatcher.find_longest_match(alo, ahi, blo, bhi) with no junk. */
static Block
find_longest_match(Matcher *m, Py_ssize_t alo, Py_ssize_t ahi, Py_ssize_t blo, Py_ssize_t bhi)
{
    Py_ssize_t besti = alo, bestj = blo, bestsize = 0;
    Workspace *ws = m->ws;
    if (ws->stamp > INT32_MAX - (int32_t)(ahi - alo) - 4) {
        reset_diagonals(ws, 0);
        ws->stamp = 0;
    }
    /* One spare stamp between calls so that no run of an earlier call looks like the previous row. */
    int32_t row = ws->stamp + 2;
    const int32_t *pos = m->pos, *off = m->off, *asym = m->asym;
    for (Py_ssize_t i = alo; i < ahi; i++, row++) {
        int32_t s = asym[i];
        if (s < 0)
            continue;
        const int32_t *p = pos + off[s], *end = pos + off[s + 1];
        if (blo > 0)
            p = lower_bound(p, end, (int32_t)blo);
        DiagCell *base = m->diag + (m->la - i);
        for (; p < end; p++) {
            Py_ssize_t j = *p;
            if (j >= bhi)
                break;
            DiagCell *cell = base + j;
            int32_t k = cell->stamp == row - 1 ? cell->len + 1 : 1;
            cell->stamp = row;
            cell->len = k;
            if (k > bestsize) {
                besti = i - k + 1;
                bestj = j - k + 1;
                bestsize = k;
            }
        }
    }
    ws->stamp = row;
    /* difflib's extension loops; they never fire without junk, kept so the port stays literal. */
    const int32_t *bsym = m->bsym;
    while (besti > alo && bestj > blo && asym[besti - 1] == bsym[bestj - 1]) {
        besti--;
        bestj--;
        bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi &&
           asym[besti + bestsize] == bsym[bestj + bestsize])
        bestsize++;
    Block result = {besti, bestj, bestsize};
    return result;
}

/* find_longest_match over the whole of a and b, the first call of get_matching_blocks. Besides
 * the best block it records every maximal diagonal run of length >= 2 (a segment), in the order
 * of its last cell: later regions are answered from these instead of a new scan. -1 on no memory. */
static int
top_level_match(Matcher *m, Block *out)
{
    Workspace *ws = m->ws;
    Py_ssize_t besti = 0, bestj = 0, bestsize = 0, la = m->la, pairs = 0;
    if (ws->stamp > INT32_MAX - (int32_t)la - 4) {
        reset_diagonals(ws, 0);
        ws->stamp = 0;
    }
    int32_t row = ws->stamp + 2;
    const int32_t *pos = m->pos, *off = m->off, *asym = m->asym, *bsym = m->bsym;
    for (Py_ssize_t i = 0; i < la; i++, row++) {
        int32_t s = asym[i];
        if (s < 0)
            continue;
        /* a run ending at (i, j) goes on iff a[i+1] == b[j+1]; the sentinels stop it at the ends */
        int32_t next = asym[i + 1];
        const int32_t *p = pos + off[s], *end = pos + off[s + 1];
        pairs += end - p;
        DiagCell *base = m->diag + (la - i);
        for (; p < end; p++) {
            Py_ssize_t j = *p;
            DiagCell *cell = base + j;
            int32_t k = cell->stamp == row - 1 ? cell->len + 1 : 1;
            cell->stamp = row;
            cell->len = k;
            if (k > bestsize) {
                besti = i - k + 1;
                bestj = j - k + 1;
                bestsize = k;
            }
            if (k >= 2 && bsym[j + 1] != next) {
                if (grow((void **)&ws->segments, &ws->cap_segments, (size_t)m->nsegments + 1,
                         sizeof(Segment)) < 0)
                    return -1;
                Segment seg = {(int32_t)i, (int32_t)j, k};
                ws->segments[m->nsegments++] = seg;
                if (k > m->max_segment)
                    m->max_segment = k;
            }
        }
    }
    ws->stamp = row;
    m->pairs_per_cell = (double)pairs / ((double)la * (double)m->lb);
    Block result = {besti, bestj, bestsize};
    *out = result;
    return 0;
}

/* First segment whose last cell is in a row >= i. */
static Py_ssize_t
segment_lower_bound(const Segment *seg, Py_ssize_t n, Py_ssize_t i)
{
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) >> 1;
        if (seg[mid].end_i < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The longest match of length >= 2 inside a region, from the segments: each run inside the
 * region is a segment cut to the region. Ties go to the earliest last cell (row, then column),
 * which is where difflib's scan first reaches that length. k == 0 when no run of 2 exists. */
static Block
segment_match(const Matcher *m, Py_ssize_t from, Py_ssize_t to, const Region *r)
{
    const Segment *seg = m->ws->segments;
    Py_ssize_t best = 1, best_i = 0, best_j = 0;
    for (Py_ssize_t t = from; t < to; t++) {
        Py_ssize_t d = (Py_ssize_t)seg[t].end_j - seg[t].end_i;
        Py_ssize_t start = seg[t].end_i - seg[t].len + 1, stop = (Py_ssize_t)seg[t].end_i + 1;
        if (start < r->alo)
            start = r->alo;
        if (start < r->blo - d)
            start = r->blo - d;
        if (stop > r->ahi)
            stop = r->ahi;
        if (stop > r->bhi - d)
            stop = r->bhi - d;
        Py_ssize_t len = stop - start, last = stop - 1;
        int earlier = last < best_i || (last == best_i && last + d < best_j);
        if (len > best || (len == best && best >= 2 && earlier)) {
            best = len;
            best_i = last;
            best_j = last + d;
        }
    }
    Block result = {best_i - best + 1, best_j - best + 1, best};
    if (best < 2)
        result.k = 0;
    return result;
}

/* With no run of 2 in the region, difflib's answer is its first equal pair in row order. */
static Block
first_pair(const Matcher *m, const Region *r)
{
    for (Py_ssize_t i = r->alo; i < r->ahi; i++) {
        int32_t s = m->asym[i];
        if (s < 0)
            continue;
        const int32_t *end = m->pos + m->off[s + 1];
        const int32_t *p = lower_bound(m->pos + m->off[s], end, (int32_t)r->blo);
        if (p < end && *p < r->bhi) {
            Block result = {i, *p, 1};
            return result;
        }
    }
    Block none = {r->alo, r->blo, 0};
    return none;
}

/* find_longest_match for a region after the first call: from the segments when fewer of them
 * can touch the region than the equal pairs a new scan would visit, else by that scan. */
static Block
region_match(Matcher *m, const Region *r)
{
    const Segment *seg = m->ws->segments;
    Py_ssize_t from = segment_lower_bound(seg, m->nsegments, r->alo);
    Py_ssize_t to = segment_lower_bound(seg, m->nsegments, r->ahi + m->max_segment - 1);
    double scan = m->pairs_per_cell * (double)(r->ahi - r->alo) * (double)(r->bhi - r->blo);
    if ((double)(to - from) > scan)
        return find_longest_match(m, r->alo, r->ahi, r->blo, r->bhi);
    Block x = segment_match(m, from, to, r);
    return x.k ? x : first_pair(m, r);
}

static int
push_region(Matcher *m, Py_ssize_t alo, Py_ssize_t ahi, Py_ssize_t blo, Py_ssize_t bhi)
{
    Workspace *ws = m->ws;
    if (grow((void **)&ws->stack, &ws->cap_stack, (size_t)m->nstack + 1, sizeof(Region)) < 0)
        return -1;
    Region r = {alo, ahi, blo, bhi};
    ws->stack[m->nstack++] = r;
    return 0;
}

/* Counts block x of region r and queues the regions left and right of it, as difflib does. */
static int
take_block(Matcher *m, const Region *r, Block x)
{
    Workspace *ws = m->ws;
    m->matched += x.k;
    if (m->keep_blocks) {
        if (grow((void **)&ws->blocks, &ws->cap_blocks, (size_t)m->nblocks + 1, sizeof(Block)) < 0)
            return -1;
        ws->blocks[m->nblocks++] = x;
    }
    if (r->alo < x.i && r->blo < x.j && push_region(m, r->alo, x.i, r->blo, x.j) < 0)
        return -1;
    if (x.i + x.k < r->ahi && x.j + x.k < r->bhi &&
        push_region(m, x.i + x.k, r->ahi, x.j + x.k, r->bhi) < 0)
        return -1;
    return 0;
}

/* get_matching_blocks' work queue (LIFO, like difflib); blocks are kept unsorted if asked for. */
static int
collect_blocks(Matcher *m)
{
    Region r = {0, m->la, 0, m->lb};
    Block x;
    if (top_level_match(m, &x) < 0)
        return -1;
    for (;;) {
        if (x.k > 0 && take_block(m, &r, x) < 0)
            return -1;
        if (m->nstack == 0)
            return 0;
        r = m->ws->stack[--m->nstack];
        x = region_match(m, &r);
    }
}

/* Sizes the workspace for la x lb and points the matcher's arrays into it. */
static int
prepare(Matcher *m)
{
    Workspace *ws = m->ws;
    size_t la = (size_t)m->la, lb = (size_t)m->lb;
    if (grow((void **)&ws->ints, &ws->cap_ints, la + 3 * lb + 4, sizeof(int32_t)) < 0)
        return -1;
    size_t old = ws->cap_diag;
    if (grow((void **)&ws->diag, &ws->cap_diag, la + lb + 1, sizeof(DiagCell)) < 0)
        return -1;
    reset_diagonals(ws, old);
    /* asym[la] and bsym[lb] are sentinels that equal nothing (see top_level_match) */
    m->asym = ws->ints;
    m->bsym = m->asym + la + 1;
    m->pos = m->bsym + lb + 1;
    m->off = m->pos + lb;
    m->diag = ws->diag;
    return 0;
}

/* Lets go of buffers a very long pair made large, so one such call does not pin memory. */
static void
trim_workspace(Workspace *ws)
{
    if (ws->cap_ints * sizeof(int32_t) > KEEP_LIMIT || ws->cap_diag * sizeof(DiagCell) > KEEP_LIMIT ||
        ws->cap_stack * sizeof(Region) > KEEP_LIMIT || ws->cap_blocks * sizeof(Block) > KEEP_LIMIT ||
        ws->cap_segments * sizeof(Segment) > KEEP_LIMIT) {
        free(ws->ints);
        free(ws->diag);
        free(ws->stack);
        free(ws->blocks);
        free(ws->segments);
        memset(ws, 0, sizeof(*ws));
    }
}

/* Fills m for a against b (m->matched, and m->blocks when keep_blocks). 0, or -1 with an exception. */
static int
run_matcher(Matcher *m, PyObject *a, PyObject *b, int keep_blocks)
{
    memset(m, 0, sizeof(*m));
    m->ws = &workspace;
    m->keep_blocks = keep_blocks;
    m->la = PyUnicode_GET_LENGTH(a);
    m->lb = PyUnicode_GET_LENGTH(b);
    if (m->la == 0 || m->lb == 0)
        return 0;
    if (m->la + m->lb + 8 > INT32_MAX / 2) {
        PyErr_SetString(PyExc_OverflowError, "strings too long for _seqmatch");
        return -1;
    }
    if (prepare(m) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    int akind = PyUnicode_KIND(a), bkind = PyUnicode_KIND(b);
    const void *adata = PyUnicode_DATA(a), *bdata = PyUnicode_DATA(b);
    /* Short pairs finish in well under a microsecond: dropping the GIL would cost more than it frees. */
    int release = m->la + m->lb > 1024;
    int failed = 0;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    Py_ssize_t nsym = assign_symbols(m, akind, adata, bkind, bdata);
    if (nsym < 0) {
        failed = 1;
    }
    else {
        build_index(m, nsym);
        failed = collect_blocks(m) < 0;
    }
    if (release)
        PyEval_RestoreThread(state);
    if (failed) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Python API */

static int
two_strings(PyObject *const *args, Py_ssize_t nargs, const char *name)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly 2 arguments (%zd given)", name, nargs);
        return -1;
    }
    for (int n = 0; n < 2; n++) {
        if (!PyUnicode_Check(args[n])) {
            PyErr_Format(PyExc_TypeError, "%s() argument %d must be str, not %.100s", name, n + 1,
                         Py_TYPE(args[n])->tp_name);
            return -1;
        }
#if PY_VERSION_HEX < 0x030C0000
        /* strings made through the legacy API are not in their compact form until readied */
        if (PyUnicode_READY(args[n]) < 0)
            return -1;
#endif
    }
    return 0;
}

static PyObject *
seqmatch_matching_characters(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Matcher m;
    if (two_strings(args, nargs, "matching_characters") < 0)
        return NULL;
    int rc = run_matcher(&m, args[0], args[1], 0);
    trim_workspace(&workspace);
    return rc < 0 ? NULL : PyLong_FromSsize_t(m.matched);
}

static PyObject *
seqmatch_ratio(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Matcher m;
    if (two_strings(args, nargs, "ratio") < 0)
        return NULL;
    int rc = run_matcher(&m, args[0], args[1], 0);
    trim_workspace(&workspace);
    if (rc < 0)
        return NULL;
    Py_ssize_t length = m.la + m.lb;
    /* difflib's _calculate_ratio, the same floating-point expression */
    return PyFloat_FromDouble(length ? 2.0 * (double)m.matched / (double)length : 1.0);
}

static int
compare_blocks(const void *x, const void *y)
{
    const Block *p = (const Block *)x, *q = (const Block *)y;
    if (p->i != q->i)
        return p->i < q->i ? -1 : 1;
    if (p->j != q->j)
        return p->j < q->j ? -1 : 1;
    return (p->k > q->k) - (p->k < q->k);
}

static int
append_triple(PyObject *list, Py_ssize_t i, Py_ssize_t j, Py_ssize_t k)
{
    PyObject *t = Py_BuildValue("(nnn)", i, j, k);
    if (t == NULL)
        return -1;
    int rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc;
}

/* get_matching_blocks(): sorted, adjacent blocks merged, then (len(a), len(b), 0). */
static PyObject *
blocks_to_list(const Block *blocks, Py_ssize_t n, Py_ssize_t la, Py_ssize_t lb)
{
    PyObject *list = PyList_New(0);
    Py_ssize_t i1 = 0, j1 = 0, k1 = 0;
    for (Py_ssize_t t = 0; list != NULL && t < n; t++) {
        Block x = blocks[t];
        if (i1 + k1 == x.i && j1 + k1 == x.j) {
            k1 += x.k;
            continue;
        }
        if (k1 && append_triple(list, i1, j1, k1) < 0)
            Py_CLEAR(list);
        i1 = x.i;
        j1 = x.j;
        k1 = x.k;
    }
    if (list != NULL && k1 && append_triple(list, i1, j1, k1) < 0)
        Py_CLEAR(list);
    if (list != NULL && append_triple(list, la, lb, 0) < 0)
        Py_CLEAR(list);
    return list;
}

static PyObject *
seqmatch_matching_blocks(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Matcher m;
    if (two_strings(args, nargs, "matching_blocks") < 0)
        return NULL;
    PyObject *list = NULL;
    if (run_matcher(&m, args[0], args[1], 1) == 0) {
        if (m.nblocks > 1)
            qsort(workspace.blocks, (size_t)m.nblocks, sizeof(Block), compare_blocks);
        list = blocks_to_list(workspace.blocks, m.nblocks, m.la, m.lb);
    }
    trim_workspace(&workspace);
    return list;
}

static PyMethodDef seqmatch_methods[] = {
    {"ratio", (PyCFunction)(void (*)(void))seqmatch_ratio, METH_FASTCALL,
     "ratio(a, b, /) -> float: SequenceMatcher(None, a, b, autojunk=False).ratio()."},
    {"matching_characters", (PyCFunction)(void (*)(void))seqmatch_matching_characters, METH_FASTCALL,
     "matching_characters(a, b, /) -> int: total size of the matching blocks (M)."},
    {"matching_blocks", (PyCFunction)(void (*)(void))seqmatch_matching_blocks, METH_FASTCALL,
     "matching_blocks(a, b, /) -> list[tuple[int, int, int]]: get_matching_blocks() as tuples."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef seqmatch_module = {
    PyModuleDef_HEAD_INIT,
    "_seqmatch",
    "Exact difflib.SequenceMatcher(None, a, b, autojunk=False) matching on code points, in C.",
    -1,
    seqmatch_methods,
};

PyMODINIT_FUNC
PyInit__seqmatch(void)
{
    return PyModule_Create(&seqmatch_module);
}
