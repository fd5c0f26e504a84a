/* Optional C versions of the hot paths of the Learner2D and the LearnerND: inserting a point
 * into a 2D or 3D triangulation (``Triangulation._insert_2d`` and ``_insert_3d``), and the
 * Learner2D's loss update (``_Mesh.flush``) and loss queue (``loss_queue.LossQueue``).
 *
 * ``triangulation.py`` and ``learner2D.py`` hold the same computations in Python and use them
 * when this module was not built (no C compiler at install time) or when the environment
 * variable ADAPTIVE_RUNNER_PURE_PYTHON is set. Both versions work on the same Python objects
 * (the lists, sets and dicts of the triangulation and the mesh) and do the same floating-point
 * operations in the same order, so they give bitwise the same results
 * (tests/learners/test_speedups.py checks that). The build flags keep it so: no fused
 * multiply-add (-ffp-contract=off), no fast-math. Whatever is rare (an orientation or
 * in-circle test too close to call in floating point, vector values, other loss functions)
 * calls back into the Python code, so it has one implementation only.
 *
 * ---- flush_losses(points, values, nonfinite, planes, gradients, star, simplices,
 *                   unsplittable, queue, dirty_planes, dirty_vertices, y_scale, area_weight,
 *                   fsum, plane_fallback, gradient_fallback, entry_fallback)
 *
 * 1. every dirty triangle still in ``simplices`` gets its plane: ``planes[t] = (gx * area,
 *    gy * area, area)`` (the vertices in coordinate order for the arithmetic), or None;
 * 2. every dirty vertex gets its gradient, the area-weighted mean of the planes around it
 *    (exact sums, as ``math.fsum``, so independent of the order of the triangles; ``fsum``
 *    itself is called only for sums that overflow);
 * 3. every triangle around a dirty vertex (and not unsplittable) gets its new entry
 *    ``(-loss, sx, sy, loss, t)`` in ``queue`` (a LossQueue, below).
 * Cases other than finite scalar values with known gradients call back into Python (the
 * ``*_fallback`` callables), so the rare paths have one implementation only.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* a point is a tuple of two floats */
static int point_xy(PyObject *point, double *x, double *y)
{
    if (!PyTuple_Check(point) || PyTuple_GET_SIZE(point) != 2) {
        PyErr_SetString(PyExc_TypeError, "mesh points must be (x, y) tuples");
        return -1;
    }
    PyObject *first = PyTuple_GET_ITEM(point, 0), *second = PyTuple_GET_ITEM(point, 1);
    if (PyFloat_CheckExact(first) && PyFloat_CheckExact(second)) {
        *x = PyFloat_AS_DOUBLE(first);
        *y = PyFloat_AS_DOUBLE(second);
        return 0;
    }
    *x = PyFloat_AsDouble(first);
    *y = PyFloat_AsDouble(second);
    return PyErr_Occurred() ? -1 : 0;
}

/* A vertex of a triangle: its point (borrowed), coordinates and vertex index. */
typedef struct {
    PyObject *point;
    double x, y;
    Py_ssize_t index;
} Corner;

/* The three corners of the triangle (a, b, c) of ``points``, in coordinate order: the same
 * swaps as the Python code, and Python's tuple order (x first, then y) on finite floats. */
static int sorted_corners(PyObject *points, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c,
                          Corner corners[3])
{
    Py_ssize_t indices[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        corners[k].index = indices[k];
        corners[k].point = PyList_GET_ITEM(points, indices[k]);
        if (point_xy(corners[k].point, &corners[k].x, &corners[k].y) < 0) {
            return -1;
        }
    }
#define CORNER_LESS(p, q) ((p).x != (q).x ? (p).x < (q).x : (p).y < (q).y)
    Corner swap;
    if (CORNER_LESS(corners[1], corners[0])) {
        swap = corners[0]; corners[0] = corners[1]; corners[1] = swap;
    }
    if (CORNER_LESS(corners[2], corners[1])) {
        swap = corners[1]; corners[1] = corners[2]; corners[2] = swap;
        if (CORNER_LESS(corners[1], corners[0])) {
            swap = corners[0]; corners[0] = corners[1]; corners[1] = swap;
        }
    }
#undef CORNER_LESS
    return 0;
}

/* math.fsum of n finite doubles: the correctly rounded sum, so it does not depend on their
 * order (Shewchuk's exact partial sums, then rounding half to even). Returns -1 when an input
 * is not finite, a partial sum overflows or the sum is zero: the caller then asks math.fsum
 * itself. */
static int exact_sum(const double *values, Py_ssize_t n, double *result)
{
    double partials[64];
    Py_ssize_t used = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        double x = values[k];
        if (!isfinite(x)) {
            return -1;
        }
        Py_ssize_t kept = 0;
        for (Py_ssize_t j = 0; j < used; j++) {
            double y = partials[j];
            if (fabs(x) < fabs(y)) {
                double t = x;
                x = y;
                y = t;
            }
            double hi = x + y;
            double lo = y - (hi - x);
            if (lo != 0.0) {
                partials[kept++] = lo;
            }
            x = hi;
        }
        if (!isfinite(x) || kept >= 64) {
            return -1;
        }
        partials[kept++] = x;
        used = kept;
    }
    double hi = 0.0;
    if (used > 0) {
        double lo = 0.0;
        hi = partials[--used];
        while (used > 0) {
            double x = hi;
            double y = partials[--used];
            hi = x + y;
            double yr = hi - x;
            lo = y - yr;
            if (lo != 0.0) {
                break;
            }
        }
        /* round half to even: when the rest has the sign of lo, hi may need one more step */
        if (used > 0 && ((lo < 0.0 && partials[used - 1] < 0.0)
                         || (lo > 0.0 && partials[used - 1] > 0.0))) {
            double y = lo * 2.0;
            double x = hi + y;
            double yr = x - hi;
            if (y == yr) {
                hi = x;
            }
        }
    }
    if (hi == 0.0) {
        return -1; /* the sign of a zero sum differs between Python versions: math.fsum says */
    }
    *result = hi;
    return 0;
}

/* A tuple of ``n`` floats followed by ``last`` (a new reference is taken; NULL: none), left
 * untracked by the garbage collector: its items are floats and tuples of numbers, so it can be
 * part of no reference cycle (CPython untracks such tuples itself, at its next collection; doing
 * it here saves the collector from visiting the many tuples of a large mesh). */
static PyObject *number_tuple(Py_ssize_t n, const double *values, PyObject *last)
{
    PyObject *tuple = PyTuple_New(n + (last != NULL));
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *number = PyFloat_FromDouble(values[k]);
        if (number == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, k, number);
    }
    if (last != NULL) {
        Py_INCREF(last);
        PyTuple_SET_ITEM(tuple, n, last);
    }
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

/* PyTuple_Pack of numbers or tuples of numbers, untracked as in number_tuple */
static PyObject *untracked(PyObject *tuple)
{
    if (tuple != NULL) {
        PyObject_GC_UnTrack(tuple);
    }
    return tuple;
}

/* a triangle is a tuple of three vertex indices */
static int triangle_vertices(PyObject *t, Py_ssize_t size, Py_ssize_t *a, Py_ssize_t *b,
                             Py_ssize_t *c)
{
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
        PyErr_SetString(PyExc_TypeError, "mesh triangles must be tuples of three indices");
        return -1;
    }
    *a = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 0));
    *b = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 1));
    *c = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 2));
    if (PyErr_Occurred()) {
        return -1;
    }
    if (*a < 0 || *b < 0 || *c < 0 || *a >= size || *b >= size || *c >= size) {
        PyErr_SetString(PyExc_IndexError, "a mesh triangle has a vertex that is not in the mesh");
        return -1;
    }
    return 0;
}

/* add every element of ``items`` to the set ``target`` */
static int add_all(PyObject *target, PyObject *items)
{
    PyObject *iterator = PyObject_GetIter(items), *item;
    if (iterator == NULL) {
        return -1;
    }
    while ((item = PyIter_Next(iterator)) != NULL) {
        int failed = PySet_Add(target, item);
        Py_DECREF(item);
        if (failed < 0) {
            Py_DECREF(iterator);
            return -1;
        }
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

/* 1 when vertex ``i`` is in the set ``nonfinite``, 0 when not, -1 on error */
static int is_nonfinite(PyObject *nonfinite, Py_ssize_t i)
{
    if (PySet_GET_SIZE(nonfinite) == 0) {
        return 0;
    }
    PyObject *key = PyLong_FromSsize_t(i);
    if (key == NULL) {
        return -1;
    }
    int found = PySet_Contains(nonfinite, key);
    Py_DECREF(key);
    return found;
}

/* ---- LossQueue: the heap entries of the triangles, by triangle, with the smallest at hand.
 *
 * The C version of learners/loss_queue.py's LossQueue (same methods, same order of entries):
 * an entry is a tuple of 4 or 5 floats followed by its triangle (a tuple of three vertex
 * indices); entries compare as Python compares the tuples. Kept as an indexed binary heap of
 * plain doubles (an update moves the entry in place: no stale entries, no tuple per entry),
 * so ``top()`` costs O(1) and ``set`` O(log n) without touching Python objects.
 */
#define QUEUE_KEYS 5

typedef struct {
    double key[QUEUE_KEYS];
    int nkey;                /* 4 or 5 */
    Py_ssize_t vertex[3];    /* the triangle's indices, the last tie-breaker */
    PyObject *triangle;      /* owned; NULL for a free slot */
    Py_ssize_t position;     /* in the heap */
} QueueSlot;

typedef struct {
    PyObject_HEAD
    QueueSlot *slots;
    Py_ssize_t nslots, slot_capacity;
    Py_ssize_t *heap; /* slot numbers */
    Py_ssize_t size, heap_capacity;
    Py_ssize_t *free;
    Py_ssize_t nfree, free_capacity;
    PyObject *index; /* dict: triangle -> slot number */
} LossQueue;

static PyTypeObject LossQueueType;

static int slot_less(const QueueSlot *p, const QueueSlot *q)
{
    int n = p->nkey < q->nkey ? p->nkey : q->nkey;
    for (int k = 0; k < n; k++) {
        if (p->key[k] != q->key[k]) {
            return p->key[k] < q->key[k];
        }
    }
    if (p->nkey != q->nkey) { /* not reached: 4- and 5-float entries differ in the first */
        return p->nkey < q->nkey;
    }
    for (int k = 0; k < 3; k++) {
        if (p->vertex[k] != q->vertex[k]) {
            return p->vertex[k] < q->vertex[k];
        }
    }
    return 0;
}

static void queue_place(LossQueue *self, Py_ssize_t position, Py_ssize_t slot)
{
    self->heap[position] = slot;
    self->slots[slot].position = position;
}

static void queue_sift_up(LossQueue *self, Py_ssize_t position)
{
    Py_ssize_t slot = self->heap[position];
    while (position > 0) {
        Py_ssize_t parent = (position - 1) >> 1;
        if (!slot_less(&self->slots[slot], &self->slots[self->heap[parent]])) {
            break;
        }
        queue_place(self, position, self->heap[parent]);
        position = parent;
    }
    queue_place(self, position, slot);
}

static void queue_sift_down(LossQueue *self, Py_ssize_t position)
{
    Py_ssize_t slot = self->heap[position];
    for (;;) {
        Py_ssize_t child = 2 * position + 1;
        if (child >= self->size) {
            break;
        }
        if (child + 1 < self->size
            && slot_less(&self->slots[self->heap[child + 1]], &self->slots[self->heap[child]])) {
            child++;
        }
        if (!slot_less(&self->slots[self->heap[child]], &self->slots[slot])) {
            break;
        }
        queue_place(self, position, self->heap[child]);
        position = child;
    }
    queue_place(self, position, slot);
}

static int grow_array(void **array, Py_ssize_t *capacity, Py_ssize_t needed, size_t item)
{
    if (needed <= *capacity) {
        return 0;
    }
    Py_ssize_t wanted = *capacity ? *capacity : 64;
    while (wanted < needed) {
        wanted *= 2;
    }
    void *grown = PyMem_Realloc(*array, wanted * item);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = grown;
    *capacity = wanted;
    return 0;
}

/* set the entry of ``triangle`` to ``key`` (nkey floats); 0 or -1 on error */
static int queue_set(LossQueue *self, PyObject *triangle, const double *key, int nkey)
{
    PyObject *found = PyDict_GetItemWithError(self->index, triangle);
    Py_ssize_t slot;
    if (found != NULL) {
        slot = PyLong_AsSsize_t(found);
        QueueSlot *entry = &self->slots[slot];
        int before_smaller = 0;
        QueueSlot old = *entry;
        memcpy(entry->key, key, nkey * sizeof(double));
        entry->nkey = nkey;
        before_smaller = slot_less(&old, entry);
        if (before_smaller) {
            queue_sift_down(self, entry->position);
        }
        else {
            queue_sift_up(self, entry->position);
        }
        return 0;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    if (!PyTuple_Check(triangle) || PyTuple_GET_SIZE(triangle) != 3) {
        PyErr_SetString(PyExc_TypeError, "LossQueue triangles must be tuples of three indices");
        return -1;
    }
    Py_ssize_t vertex[3];
    for (int k = 0; k < 3; k++) {
        vertex[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(triangle, k));
        if (vertex[k] == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    if (self->nfree > 0) {
        slot = self->free[--self->nfree];
    }
    else {
        if (grow_array((void **)&self->slots, &self->slot_capacity, self->nslots + 1,
                       sizeof(QueueSlot)) < 0) {
            return -1;
        }
        slot = self->nslots++;
    }
    if (grow_array((void **)&self->heap, &self->heap_capacity, self->size + 1,
                   sizeof(Py_ssize_t)) < 0) {
        return -1;
    }
    PyObject *number = PyLong_FromSsize_t(slot);
    if (number == NULL || PyDict_SetItem(self->index, triangle, number) < 0) {
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    QueueSlot *entry = &self->slots[slot];
    memcpy(entry->key, key, nkey * sizeof(double));
    entry->nkey = nkey;
    memcpy(entry->vertex, vertex, sizeof(vertex));
    Py_INCREF(triangle);
    entry->triangle = triangle;
    self->size++;
    queue_place(self, self->size - 1, slot);
    queue_sift_up(self, self->size - 1);
    return 0;
}

/* the floats of an entry tuple (everything but its last item, the triangle) */
static int entry_key(PyObject *entry, double *key, int *nkey)
{
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) < 5
        || PyTuple_GET_SIZE(entry) > QUEUE_KEYS + 1) {
        PyErr_SetString(PyExc_TypeError, "LossQueue entries are 4 or 5 floats and a triangle");
        return -1;
    }
    *nkey = (int)PyTuple_GET_SIZE(entry) - 1;
    for (int k = 0; k < *nkey; k++) {
        key[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, k));
        if (key[k] == -1.0 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
}

static int queue_set_entry(LossQueue *self, PyObject *triangle, PyObject *entry)
{
    double key[QUEUE_KEYS];
    int nkey;
    if (entry_key(entry, key, &nkey) < 0) {
        return -1;
    }
    return queue_set(self, triangle, key, nkey);
}

static PyObject *slot_entry(const QueueSlot *entry)
{
    return number_tuple(entry->nkey, entry->key, entry->triangle);
}

static int queue_discard(LossQueue *self, PyObject *triangle)
{
    PyObject *found = PyDict_GetItemWithError(self->index, triangle);
    if (found == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_ssize_t slot = PyLong_AsSsize_t(found);
    if (grow_array((void **)&self->free, &self->free_capacity, self->nfree + 1,
                   sizeof(Py_ssize_t)) < 0) {
        return -1;
    }
    QueueSlot *entry = &self->slots[slot];
    Py_ssize_t position = entry->position;
    PyObject *held = entry->triangle;
    entry->triangle = NULL;
    self->free[self->nfree++] = slot;
    self->size--;
    if (position < self->size) { /* the last entry takes the freed place, then settles */
        Py_ssize_t moved = self->heap[self->size];
        queue_place(self, position, moved);
        queue_sift_down(self, position);
        queue_sift_up(self, self->slots[moved].position);
    }
    int failed = PyDict_DelItem(self->index, triangle) < 0;
    Py_DECREF(held);
    return failed ? -1 : 0;
}

static void queue_clear_all(LossQueue *self)
{
    for (Py_ssize_t k = 0; k < self->nslots; k++) {
        Py_CLEAR(self->slots[k].triangle);
    }
    self->nslots = self->size = self->nfree = 0;
    if (self->index != NULL) {
        PyDict_Clear(self->index);
    }
}

static PyObject *LossQueue_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "LossQueue() takes no arguments");
        return NULL;
    }
    LossQueue *self = (LossQueue *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->index = PyDict_New();
    if (self->index == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void LossQueue_dealloc(LossQueue *self)
{
    queue_clear_all(self);
    Py_XDECREF(self->index);
    PyMem_Free(self->slots);
    PyMem_Free(self->heap);
    PyMem_Free(self->free);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *LossQueue_set(LossQueue *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "LossQueue.set(triangle, entry)");
        return NULL;
    }
    if (queue_set_entry(self, args[0], args[1]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *LossQueue_discard(LossQueue *self, PyObject *triangle)
{
    if (queue_discard(self, triangle) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *LossQueue_top(LossQueue *self, PyObject *unused)
{
    (void)unused;
    if (self->size == 0) {
        Py_RETURN_NONE;
    }
    return slot_entry(&self->slots[self->heap[0]]);
}

static PyObject *LossQueue_reset(LossQueue *self, PyObject *entries)
{
    if (!PyDict_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "LossQueue.reset() takes a dict {triangle: entry}");
        return NULL;
    }
    queue_clear_all(self);
    PyObject *triangle, *entry;
    Py_ssize_t position = 0;
    while (PyDict_Next(entries, &position, &triangle, &entry)) {
        if (queue_set_entry(self, triangle, entry) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *LossQueue_items(LossQueue *self, PyObject *unused)
{
    (void)unused;
    PyObject *items = PyList_New(0);
    if (items == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < self->size; k++) {
        const QueueSlot *entry = &self->slots[self->heap[k]];
        PyObject *value = slot_entry(entry);
        PyObject *pair = value ? PyTuple_Pack(2, entry->triangle, value) : NULL;
        Py_XDECREF(value);
        if (pair == NULL || PyList_Append(items, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(items);
            return NULL;
        }
        Py_DECREF(pair);
    }
    return items;
}

static Py_ssize_t LossQueue_length(LossQueue *self)
{
    return self->size;
}

static int LossQueue_contains(LossQueue *self, PyObject *triangle)
{
    return PyDict_Contains(self->index, triangle);
}

static PyMethodDef LossQueue_methods[] = {
    {"set", (PyCFunction)(void (*)(void))LossQueue_set, METH_FASTCALL,
     "set(triangle, entry): the entry of triangle (a tuple of floats ending in triangle)."},
    {"discard", (PyCFunction)LossQueue_discard, METH_O, "Forget the entry of a triangle."},
    {"top", (PyCFunction)LossQueue_top, METH_NOARGS,
     "The smallest entry (the triangle of largest loss), or None."},
    {"reset", (PyCFunction)LossQueue_reset, METH_O,
     "Replace every entry by those of a dict {triangle: entry}."},
    {"items", (PyCFunction)LossQueue_items, METH_NOARGS,
     "A list of (triangle, entry) pairs, in no particular order."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods LossQueue_as_sequence = {
    .sq_length = (lenfunc)LossQueue_length,
    .sq_contains = (objobjproc)LossQueue_contains,
};

static PyTypeObject LossQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "adaptive_runner.learners._speedups.LossQueue",
    .tp_doc = "The loss entries of a Learner2D mesh by triangle, smallest first (C version of "
              "learners.loss_queue.LossQueue).",
    .tp_basicsize = sizeof(LossQueue),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = LossQueue_new,
    .tp_dealloc = (destructor)LossQueue_dealloc,
    .tp_methods = LossQueue_methods,
    .tp_as_sequence = &LossQueue_as_sequence,
};

/* The plane of triangle t (new reference), as _Mesh._plane computes it. */
static PyObject *plane_of(PyObject *t, PyObject *points, PyObject *values, PyObject *nonfinite,
                          PyObject *plane_fallback)
{
    Py_ssize_t a, b, c;
    if (triangle_vertices(t, PyList_GET_SIZE(points), &a, &b, &c) < 0) {
        return NULL;
    }
    PyObject *va = PyList_GET_ITEM(values, a);
    PyObject *vb = PyList_GET_ITEM(values, b);
    PyObject *vc = PyList_GET_ITEM(values, c);
    if (va == Py_None || vb == Py_None || vc == Py_None) {
        Py_RETURN_NONE;
    }
    if (!PyFloat_CheckExact(va) || !PyFloat_CheckExact(vb) || !PyFloat_CheckExact(vc)) {
        return PyObject_CallOneArg(plane_fallback, t);
    }
    for (int k = 0; k < 3; k++) {
        int bad = is_nonfinite(nonfinite, k == 0 ? a : (k == 1 ? b : c));
        if (bad < 0) {
            return NULL;
        }
        if (bad) {
            Py_RETURN_NONE;
        }
    }
    Corner corners[3];
    if (sorted_corners(points, a, b, c, corners) < 0) {
        return NULL;
    }
    double fa = PyFloat_AS_DOUBLE(PyList_GET_ITEM(values, corners[0].index));
    double fb = PyFloat_AS_DOUBLE(PyList_GET_ITEM(values, corners[1].index));
    double fc = PyFloat_AS_DOUBLE(PyList_GET_ITEM(values, corners[2].index));
    double ax = corners[0].x, ay = corners[0].y, bx = corners[1].x, by = corners[1].y;
    double cx = corners[2].x, cy = corners[2].y;
    double d1x = bx - ax, d1y = by - ay;
    double d2x = cx - ax, d2y = cy - ay;
    double det = d1x * d2y - d1y * d2x;
    if (det == 0.0) {
        Py_RETURN_NONE;
    }
    double half = det > 0 ? 0.5 : -0.5;
    double wx = ((fb - fa) * d2y - (fc - fa) * d1y) * half;
    double wy = ((fc - fa) * d1x - (fb - fa) * d2x) * half;
    double numbers[3] = {wx, wy, half * det};
    return number_tuple(3, numbers, NULL);
}

/* The gradient at vertex v (new reference): the area-weighted mean of the planes around it,
 * with the sums of _Mesh's flush (math.fsum, so exact and independent of the order). */
static PyObject *gradient_of(Py_ssize_t v, PyObject *around, PyObject *planes, PyObject *fsum,
                             PyObject *gradient_fallback)
{
    Py_ssize_t size = PySet_GET_SIZE(around), count = 0;
    double stack_buffer[3 * 32];
    double *numbers = size <= 32 ? stack_buffer : PyMem_Malloc(3 * size * sizeof(double));
    PyObject *iterator = NULL, *t, *result = NULL;
    if (numbers == NULL) {
        return PyErr_NoMemory();
    }
    double *wxs = numbers, *wys = numbers + size, *areas = numbers + 2 * size;
    iterator = PyObject_GetIter(around);
    if (iterator == NULL) {
        goto done;
    }
    while ((t = PyIter_Next(iterator)) != NULL) {
        PyObject *plane = PyDict_GetItemWithError(planes, t); /* borrowed */
        Py_DECREF(t);
        if (plane == NULL) {
            if (PyErr_Occurred()) {
                goto done;
            }
            continue;
        }
        if (plane == Py_None) {
            continue;
        }
        PyObject *wx = PyTuple_GET_ITEM(plane, 0), *wy = PyTuple_GET_ITEM(plane, 1);
        PyObject *area = PyTuple_GET_ITEM(plane, 2);
        if (!PyFloat_CheckExact(wx) || !PyFloat_CheckExact(wy) || !PyFloat_CheckExact(area)
            || count == size) { /* vector values */
            PyObject *index = PyLong_FromSsize_t(v);
            if (index != NULL) {
                result = PyObject_CallOneArg(gradient_fallback, index);
                Py_DECREF(index);
            }
            goto done;
        }
        wxs[count] = PyFloat_AS_DOUBLE(wx);
        wys[count] = PyFloat_AS_DOUBLE(wy);
        areas[count] = PyFloat_AS_DOUBLE(area);
        count++;
    }
    if (PyErr_Occurred()) {
        goto done;
    }
    if (count == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    double total, sx, sy;
    if (exact_sum(areas, count, &total) < 0 || exact_sum(wxs, count, &sx) < 0
        || exact_sum(wys, count, &sy) < 0) {
        /* not finite, or an overflow: math.fsum decides (and raises as it does in Python) */
        double *columns[3] = {areas, wxs, wys}, *sums[3] = {&total, &sx, &sy};
        for (int k = 0; k < 3; k++) {
            PyObject *list = PyList_New(count);
            if (list == NULL) {
                goto done;
            }
            for (Py_ssize_t j = 0; j < count; j++) {
                PyObject *number = PyFloat_FromDouble(columns[k][j]);
                if (number == NULL) {
                    Py_DECREF(list);
                    goto done;
                }
                PyList_SET_ITEM(list, j, number);
            }
            PyObject *sum = PyObject_CallOneArg(fsum, list);
            Py_DECREF(list);
            if (sum == NULL) {
                goto done;
            }
            *sums[k] = PyFloat_AsDouble(sum);
            Py_DECREF(sum);
        }
    }
    double gradient[2] = {sx / total, sy / total};
    result = number_tuple(2, gradient, NULL);
done:
    Py_XDECREF(iterator);
    if (numbers != stack_buffer) {
        PyMem_Free(numbers);
    }
    return result;
}

/* For the tests: exact_sum of a list of floats, or None when it defers to math.fsum. */
static PyObject *exact_sum_py(PyObject *module, PyObject *list)
{
    (void)module;
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "exact_sum() takes a list of floats");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    double *values = PyMem_Malloc((n ? n : 1) * sizeof(double));
    if (values == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        values[k] = PyFloat_AsDouble(PyList_GET_ITEM(list, k));
        if (values[k] == -1.0 && PyErr_Occurred()) {
            PyMem_Free(values);
            return NULL;
        }
    }
    double sum;
    int deferred = exact_sum(values, n, &sum) < 0;
    PyMem_Free(values);
    if (deferred) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(sum);
}

/* The loss entry of triangle t, as _Mesh._entry computes it for finite scalar values with
 * known gradients and the default loss: its four floats in ``key``. Other cases go to
 * entry_fallback, whose entry tuple is returned in ``*fallback`` (a new reference). 0, or -1
 * on error. */
static int entry_of(PyObject *t, PyObject *points, PyObject *values, PyObject *nonfinite,
                    PyObject *gradients, double y_scale, double area_weight,
                    PyObject *entry_fallback, double *key, PyObject **fallback)
{
    Py_ssize_t a, b, c;
    *fallback = NULL;
    if (triangle_vertices(t, PyList_GET_SIZE(points), &a, &b, &c) < 0) {
        return -1;
    }
    Corner corners[3];
    if (sorted_corners(points, a, b, c, corners) < 0) {
        return -1;
    }
    a = corners[0].index;
    b = corners[1].index;
    c = corners[2].index;
    PyObject *va = PyList_GET_ITEM(values, a);
    PyObject *vb = PyList_GET_ITEM(values, b);
    PyObject *vc = PyList_GET_ITEM(values, c);
    PyObject *ga = PyList_GET_ITEM(gradients, a);
    PyObject *gb = PyList_GET_ITEM(gradients, b);
    PyObject *gc = PyList_GET_ITEM(gradients, c);
    if (!PyFloat_CheckExact(va) || !PyFloat_CheckExact(vb) || !PyFloat_CheckExact(vc)
        || ga == Py_None || gb == Py_None || gc == Py_None) {
        *fallback = PyObject_CallOneArg(entry_fallback, t);
        return *fallback == NULL ? -1 : 0;
    }
    for (int k = 0; k < 3; k++) {
        int bad = is_nonfinite(nonfinite, corners[k].index);
        if (bad < 0) {
            return -1;
        }
        if (bad) {
            *fallback = PyObject_CallOneArg(entry_fallback, t);
            return *fallback == NULL ? -1 : 0;
        }
    }
    double ax = corners[0].x, ay = corners[0].y, bx = corners[1].x, by = corners[1].y;
    double cx = corners[2].x, cy = corners[2].y;
    double ga0, ga1, gb0, gb1, gc0, gc1;
    if (point_xy(ga, &ga0, &ga1) < 0 || point_xy(gb, &gb0, &gb1) < 0
        || point_xy(gc, &gc0, &gc1) < 0) {
        return -1;
    }
    double det = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    double area = 0.5 * fabs(det);
    double sx = ax + bx + cx, sy = ay + by + cy;
    double fa = PyFloat_AS_DOUBLE(va), fb = PyFloat_AS_DOUBLE(vb), fc = PyFloat_AS_DOUBLE(vc);
    double abx = bx - ax, aby = by - ay;
    double acx = cx - ax, acy = cy - ay;
    double bcx = cx - bx, bcy = cy - by;
    double dab = fb - fa, dac = fc - fa, dbc = fc - fb;
    double deviation = fabs(dab - ga0 * abx - ga1 * aby);
    deviation = deviation + fabs(dac - ga0 * acx - ga1 * acy);
    deviation = deviation + fabs(dab - gb0 * abx - gb1 * aby);
    deviation = deviation + fabs(dbc - gb0 * bcx - gb1 * bcy);
    deviation = deviation + fabs(dac - gc0 * acx - gc1 * acy);
    deviation = deviation + fabs(dbc - gc0 * bcx - gc1 * bcy);
    deviation = deviation / y_scale;
    double loss = deviation * sqrt(area) + area_weight * area;
    key[0] = -loss;
    key[1] = sx;
    key[2] = sy;
    key[3] = loss;
    return 0;
}

static PyObject *flush_losses(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 17) {
        PyErr_Format(PyExc_TypeError, "flush_losses() takes 17 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *points = args[0], *values = args[1], *nonfinite = args[2], *planes = args[3];
    PyObject *gradients = args[4], *star = args[5], *simplices = args[6];
    PyObject *unsplittable = args[7], *queue = args[8];
    PyObject *dirty_planes = args[9], *dirty_vertices = args[10];
    double y_scale = PyFloat_AsDouble(args[11]);
    double area_weight = PyFloat_AsDouble(args[12]);
    PyObject *fsum = args[13];
    PyObject *plane_fallback = args[14], *gradient_fallback = args[15];
    PyObject *entry_fallback = args[16];
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (!PyList_CheckExact(points) || !PyList_CheckExact(values)
        || !PyList_CheckExact(gradients) || !PyList_CheckExact(star)
        || !PyAnySet_CheckExact(nonfinite) || !PyDict_CheckExact(planes)
        || !PyAnySet_CheckExact(simplices) || !PyAnySet_CheckExact(unsplittable)
        || !PyObject_TypeCheck(queue, &LossQueueType)) {
        PyErr_SetString(PyExc_TypeError, "flush_losses() got a mesh of unexpected types");
        return NULL;
    }
    Py_ssize_t npoints = PyList_GET_SIZE(points);
    if (PyList_GET_SIZE(values) != npoints || PyList_GET_SIZE(gradients) != npoints
        || PyList_GET_SIZE(star) != npoints) {
        PyErr_SetString(PyExc_ValueError, "flush_losses() got lists of different lengths");
        return NULL;
    }
    PyObject *iterator, *item, *changed = NULL;

    /* 1. planes */
    iterator = PyObject_GetIter(dirty_planes);
    if (iterator == NULL) {
        return NULL;
    }
    while ((item = PyIter_Next(iterator)) != NULL) {
        int alive = PySet_Contains(simplices, item);
        if (alive > 0) {
            PyObject *plane = plane_of(item, points, values, nonfinite, plane_fallback);
            if (plane == NULL || PyDict_SetItem(planes, item, plane) < 0) {
                Py_XDECREF(plane);
                alive = -1;
            }
            else {
                Py_DECREF(plane);
            }
        }
        Py_DECREF(item);
        if (alive < 0) {
            Py_DECREF(iterator);
            return NULL;
        }
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) {
        return NULL;
    }

    /* 2. gradients, and the triangles whose loss changes */
    changed = PySet_New(NULL);
    if (changed == NULL) {
        return NULL;
    }
    iterator = PyObject_GetIter(dirty_vertices);
    if (iterator == NULL) {
        goto error;
    }
    while ((item = PyIter_Next(iterator)) != NULL) {
        Py_ssize_t v = PyLong_AsSsize_t(item);
        Py_DECREF(item);
        if (v == -1 && PyErr_Occurred()) {
            goto error_iterating;
        }
        if (v < 0 || v >= npoints) {
            PyErr_Format(PyExc_IndexError, "vertex %zd is not in the mesh", v);
            goto error_iterating;
        }
        PyObject *around = PyList_GET_ITEM(star, v);
        if (add_all(changed, around) < 0) {
            goto error_iterating;
        }
        PyObject *gradient = gradient_of(v, around, planes, fsum, gradient_fallback);
        if (gradient == NULL) {
            goto error_iterating;
        }
        if (PyList_SetItem(gradients, v, gradient) < 0) { /* steals the reference */
            goto error_iterating;
        }
    }
    Py_CLEAR(iterator);
    if (PyErr_Occurred()) {
        goto error;
    }

    /* 3. losses */
    iterator = PyObject_GetIter(changed);
    if (iterator == NULL) {
        goto error;
    }
    while ((item = PyIter_Next(iterator)) != NULL) {
        int skip = PySet_GET_SIZE(unsplittable) ? PySet_Contains(unsplittable, item) : 0;
        int failed = skip < 0;
        if (!skip) {
            double key[4];
            PyObject *fallback;
            failed = entry_of(item, points, values, nonfinite, gradients, y_scale, area_weight,
                              entry_fallback, key, &fallback) < 0;
            if (!failed) {
                failed = (fallback ? queue_set_entry((LossQueue *)queue, item, fallback)
                                   : queue_set((LossQueue *)queue, item, key, 4)) < 0;
            }
            Py_XDECREF(fallback);
        }
        Py_DECREF(item);
        if (failed) {
            goto error_iterating;
        }
    }
    Py_CLEAR(iterator);
    if (PyErr_Occurred()) {
        goto error;
    }
    Py_DECREF(changed);
    Py_RETURN_NONE;

error_iterating:
    Py_XDECREF(iterator);
error:
    Py_XDECREF(changed);
    return NULL;
}

/* ---- insert_2d(index, start, vertices, spheres, facets, simplices, vertex_to_simplices,
 *                in_circumsphere_exact, orient2) -> (cavity, added, last) or None
 *
 * Triangulation._insert_2d in C: grow the cavity of the triangles whose circumcircle holds the
 * new vertex (walking across edges from ``start``), check that the vertex sees every boundary
 * edge from inside, then replace the cavity by the fan of triangles around the vertex. Returns
 * None, having changed nothing, when an orientation is too close to call in floating point
 * (the Python code then takes the general path). ``in_circumsphere_exact(vertices, point)``
 * and ``orient2(a, b, c)`` are the exact Python predicates, called only near ties.
 */
typedef struct {
    PyObject *edge;     /* (i, j), owned */
    PyObject *opposite; /* the cavity triangle's third vertex, borrowed from the cavity */
    int sign;
} BoundaryEdge;

/* the sorted pair (first, second) as a new tuple; the items are already sorted */
static PyObject *edge_of(PyObject *first, PyObject *second)
{
    return PyTuple_Pack(2, first, second);
}

static int vertex_xy(PyObject *vertices, PyObject *index, double *x, double *y)
{
    Py_ssize_t i = PyLong_AsSsize_t(index);
    if (i == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (i < 0 || i >= PyList_GET_SIZE(vertices)) {
        PyErr_Format(PyExc_IndexError, "vertex %zd is not in the triangulation", i);
        return -1;
    }
    return point_xy(PyList_GET_ITEM(vertices, i), x, y);
}

/* list.remove(item) for a list of triangles */
static int list_remove(PyObject *list, PyObject *item)
{
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(list); k++) {
        int equal = PyObject_RichCompareBool(PyList_GET_ITEM(list, k), item, Py_EQ);
        if (equal < 0) {
            return -1;
        }
        if (equal) {
            return PySequence_DelItem(list, k);
        }
    }
    PyErr_SetString(PyExc_ValueError, "list.remove(x): x not in list");
    return -1;
}

/* set.remove(item) */
static int set_remove(PyObject *set, PyObject *item)
{
    int found = PySet_Discard(set, item);
    if (found == 0) {
        PyErr_SetObject(PyExc_KeyError, item);
        return -1;
    }
    return found < 0 ? -1 : 0;
}

/* ``vertex_to_simplices[i]`` for the vertex object ``index`` (borrowed) */
static PyObject *star_of(PyObject *vertex_to_simplices, PyObject *index)
{
    Py_ssize_t i = PyLong_AsSsize_t(index);
    if (i == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (i < 0 || i >= PyList_GET_SIZE(vertex_to_simplices)) {
        PyErr_Format(PyExc_IndexError, "vertex %zd is not in the triangulation", i);
        return NULL;
    }
    return PyList_GET_ITEM(vertex_to_simplices, i);
}

/* in_circumsphere_exact([vertices of triangle], point) as 1/0, -1 on error */
static int in_circle_exact(PyObject *predicate, PyObject *vertices, PyObject *triangle,
                           PyObject *point)
{
    PyObject *corners = PyList_New(3);
    if (corners == NULL) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < 3; k++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(triangle, k));
        if (i < 0 || i >= PyList_GET_SIZE(vertices)) {
            Py_DECREF(corners);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_IndexError, "a triangle has a vertex out of range");
            }
            return -1;
        }
        PyObject *vertex = PyList_GET_ITEM(vertices, i);
        Py_INCREF(vertex);
        PyList_SET_ITEM(corners, k, vertex);
    }
    PyObject *answer = PyObject_CallFunctionObjArgs(predicate, corners, point, NULL);
    Py_DECREF(corners);
    if (answer == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return truth;
}

static PyObject *insert_2d(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 9) {
        PyErr_Format(PyExc_TypeError, "insert_2d() takes 9 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *index = args[0], *start = args[1], *vertices = args[2], *spheres = args[3];
    PyObject *facets = args[4], *simplices = args[5], *vertex_to_simplices = args[6];
    PyObject *in_circumsphere = args[7], *orient2 = args[8];
    if (!PyLong_CheckExact(index) || !PyTuple_Check(start) || !PyList_CheckExact(vertices)
        || !PyDict_CheckExact(spheres) || !PyDict_CheckExact(facets)
        || !PyAnySet_CheckExact(simplices) || !PyList_CheckExact(vertex_to_simplices)) {
        PyErr_SetString(PyExc_TypeError, "insert_2d() got a triangulation of unexpected types");
        return NULL;
    }
    const double bound = (3.0 + 16.0 * 0x1p-53) * 0x1p-53; /* _ORIENT2_BOUND */
    const double low_factor = 1.0 - 1e-9, high_factor = 1.0 + 1e-9; /* _INSPHERE_BAND */
    long new_index = PyLong_AsLong(index);
    double px, py;
    if (vertex_xy(vertices, index, &px, &py) < 0) {
        return NULL;
    }
    PyObject *point = PyList_GET_ITEM(vertices, new_index);
    PyObject *result = NULL, *cavity = NULL, *added = NULL, *last = NULL, *iterator = NULL;
    PyObject **stack = NULL;
    BoundaryEdge *boundary = NULL;
    Py_ssize_t nstack = 0, stack_size = 16, nboundary = 0, boundary_size = 16;
    stack = PyMem_Malloc(stack_size * sizeof(PyObject *));
    boundary = PyMem_Malloc(boundary_size * sizeof(BoundaryEdge));
    cavity = PySet_New(NULL);
    if (stack == NULL || boundary == NULL || cavity == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (PySet_Add(cavity, start) < 0) {
        goto done;
    }
    stack[nstack++] = start; /* borrowed: the cavity set holds every triangle on the stack */

    /* 1. the cavity and its boundary edges */
    while (nstack > 0) {
        PyObject *simplex = stack[--nstack];
        if (!PyTuple_Check(simplex) || PyTuple_GET_SIZE(simplex) != 3) {
            PyErr_SetString(PyExc_TypeError, "triangles must be tuples of three indices");
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(simplex, 0), *b = PyTuple_GET_ITEM(simplex, 1);
        PyObject *c = PyTuple_GET_ITEM(simplex, 2);
        PyObject *ends[3][3] = {{b, c, a}, {a, c, b}, {a, b, c}};
        for (int k = 0; k < 3; k++) {
            PyObject *edge = edge_of(ends[k][0], ends[k][1]);
            if (edge == NULL) {
                goto done;
            }
            PyObject *owners = PyDict_GetItemWithError(facets, edge);
            if (owners == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, edge);
                }
                Py_DECREF(edge);
                goto done;
            }
            if (PyList_GET_SIZE(owners) == 2) {
                int first = PyObject_RichCompareBool(PyList_GET_ITEM(owners, 0), simplex, Py_EQ);
                if (first < 0) {
                    Py_DECREF(edge);
                    goto done;
                }
                PyObject *other = PyList_GET_ITEM(owners, first ? 1 : 0);
                int known = PySet_Contains(cavity, other);
                if (known) {
                    Py_DECREF(edge);
                    if (known < 0) {
                        goto done;
                    }
                    continue;
                }
                PyObject *sphere = PyDict_GetItemWithError(spheres, other);
                if (sphere == NULL || !PyTuple_Check(sphere) || PyTuple_GET_SIZE(sphere) != 5) {
                    if (!PyErr_Occurred()) {
                        PyErr_SetString(PyExc_KeyError, "a triangle has no circumcircle");
                    }
                    Py_DECREF(edge);
                    goto done;
                }
                double cx = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 0));
                double cy = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 1));
                double low = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 2));
                double high = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 3));
                if (PyErr_Occurred()) {
                    Py_DECREF(edge);
                    goto done;
                }
                /* (px - cx) ** 2 + (py - cy) ** 2, as Python computes it */
                double distance2 = pow(px - cx, 2.0) + pow(py - cy, 2.0);
                int inside = distance2 < low;
                if (!inside && distance2 <= high) {
                    inside = in_circle_exact(in_circumsphere, vertices, other, point);
                    if (inside < 0) {
                        Py_DECREF(edge);
                        goto done;
                    }
                }
                if (inside) {
                    Py_DECREF(edge);
                    if (PySet_Add(cavity, other) < 0) {
                        goto done;
                    }
                    if (nstack == stack_size) {
                        stack_size *= 2;
                        PyObject **grown = PyMem_Realloc(stack, stack_size * sizeof(PyObject *));
                        if (grown == NULL) {
                            PyErr_NoMemory();
                            goto done;
                        }
                        stack = grown;
                    }
                    stack[nstack++] = other;
                    continue;
                }
            }
            if (nboundary == boundary_size) {
                boundary_size *= 2;
                BoundaryEdge *grown = PyMem_Realloc(boundary, boundary_size * sizeof(BoundaryEdge));
                if (grown == NULL) {
                    Py_DECREF(edge);
                    PyErr_NoMemory();
                    goto done;
                }
                boundary = grown;
            }
            boundary[nboundary].edge = edge;
            boundary[nboundary].opposite = ends[k][2];
            boundary[nboundary].sign = 0;
            nboundary++;
        }
    }

    /* 2. the new vertex must see every boundary edge from the cavity's side */
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        double ux, uy, vx, vy, wx, wy;
        PyObject *edge = boundary[k].edge;
        if (vertex_xy(vertices, PyTuple_GET_ITEM(edge, 0), &ux, &uy) < 0
            || vertex_xy(vertices, PyTuple_GET_ITEM(edge, 1), &vx, &vy) < 0
            || vertex_xy(vertices, boundary[k].opposite, &wx, &wy) < 0) {
            goto done;
        }
        double left = (vx - ux) * (wy - uy), right = (vy - uy) * (wx - ux);
        double det_w = left - right;
        if (fabs(det_w) <= bound * (fabs(left) + fabs(right))) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        left = (vx - ux) * (py - uy);
        right = (vy - uy) * (px - ux);
        double det_p = left - right;
        if (fabs(det_p) <= bound * (fabs(left) + fabs(right))) {
            /* on a hull edge exactly: no triangle is made with that edge */
            PyObject *owners = PyDict_GetItemWithError(facets, edge);
            if (owners == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, edge);
                }
                goto done;
            }
            if (PyList_GET_SIZE(owners) == 1) {
                PyObject *u = PyList_GET_ITEM(vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(edge, 0)));
                PyObject *v = PyList_GET_ITEM(vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(edge, 1)));
                PyObject *sign = PyObject_CallFunctionObjArgs(orient2, u, v, point, NULL);
                if (sign == NULL) {
                    goto done;
                }
                long value = PyLong_AsLong(sign);
                Py_DECREF(sign);
                if (value == -1 && PyErr_Occurred()) {
                    goto done;
                }
                if (value == 0) {
                    boundary[k].sign = 0; /* skipped below */
                    continue;
                }
            }
            result = Py_NewRef(Py_None);
            goto done;
        }
        if ((det_p > 0) != (det_w > 0)) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        boundary[k].sign = det_p > 0 ? 1 : -1;
    }

    /* 3. remove the cavity */
    iterator = PyObject_GetIter(cavity);
    if (iterator == NULL) {
        goto done;
    }
    PyObject *simplex;
    while ((simplex = PyIter_Next(iterator)) != NULL) {
        int failed = set_remove(simplices, simplex) < 0 || PyDict_DelItem(spheres, simplex) < 0;
        PyObject *a = PyTuple_GET_ITEM(simplex, 0), *b = PyTuple_GET_ITEM(simplex, 1);
        PyObject *c = PyTuple_GET_ITEM(simplex, 2);
        PyObject *corners[3] = {a, b, c};
        for (int k = 0; k < 3 && !failed; k++) {
            PyObject *star = star_of(vertex_to_simplices, corners[k]);
            failed = star == NULL || set_remove(star, simplex) < 0;
        }
        PyObject *edges[3][2] = {{b, c}, {a, c}, {a, b}};
        for (int k = 0; k < 3 && !failed; k++) {
            PyObject *edge = edge_of(edges[k][0], edges[k][1]);
            PyObject *owners = edge ? PyDict_GetItemWithError(facets, edge) : NULL;
            if (owners == NULL) {
                if (edge != NULL && !PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, edge);
                }
                failed = 1;
            }
            else if (PyList_GET_SIZE(owners) == 1) {
                failed = PyDict_DelItem(facets, edge) < 0;
            }
            else {
                failed = list_remove(owners, simplex) < 0;
            }
            Py_XDECREF(edge);
        }
        Py_DECREF(simplex);
        if (failed) {
            goto done;
        }
    }
    Py_CLEAR(iterator);
    if (PyErr_Occurred()) {
        goto done;
    }

    /* 4. the fan of new triangles around the vertex */
    added = PySet_New(NULL);
    if (added == NULL) {
        goto done;
    }
    PyObject *new_star = star_of(vertex_to_simplices, index);
    if (new_star == NULL) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        if (boundary[k].sign == 0) {
            continue; /* a hull edge the vertex lies on */
        }
        PyObject *i = PyTuple_GET_ITEM(boundary[k].edge, 0);
        PyObject *j = PyTuple_GET_ITEM(boundary[k].edge, 1);
        long sign = boundary[k].sign;
        PyObject *triangle;
        if (PyLong_AsLong(j) < new_index) {
            triangle = untracked(PyTuple_Pack(3, i, j, index));
        }
        else { /* not reached while vertices are numbered in insertion order */
            PyObject *unsorted = PyList_New(0);
            if (unsorted == NULL || PyList_Append(unsorted, i) < 0
                || PyList_Append(unsorted, j) < 0 || PyList_Append(unsorted, index) < 0
                || PyList_Sort(unsorted) < 0) {
                Py_XDECREF(unsorted);
                goto done;
            }
            triangle = PyList_AsTuple(unsorted);
            Py_DECREF(unsorted);
            if (triangle == NULL) {
                goto done;
            }
            PyObject *corners[3];
            for (int m = 0; m < 3; m++) {
                corners[m] = PyList_GET_ITEM(
                    vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(triangle, m)));
            }
            PyObject *exact = PyObject_CallFunctionObjArgs(orient2, corners[0], corners[1],
                                                           corners[2], NULL);
            sign = exact ? PyLong_AsLong(exact) : -1;
            Py_XDECREF(exact);
            if (PyErr_Occurred()) {
                Py_DECREF(triangle);
                goto done;
            }
        }
        if (triangle == NULL) {
            goto done;
        }
        Py_XSETREF(last, triangle);
        PyObject *star_i = star_of(vertex_to_simplices, i);
        PyObject *star_j = star_of(vertex_to_simplices, j);
        if (star_i == NULL || star_j == NULL || PySet_Add(simplices, triangle) < 0
            || PySet_Add(added, triangle) < 0 || PySet_Add(star_i, triangle) < 0
            || PySet_Add(star_j, triangle) < 0 || PySet_Add(new_star, triangle) < 0) {
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(triangle, 0), *b = PyTuple_GET_ITEM(triangle, 1);
        PyObject *c = PyTuple_GET_ITEM(triangle, 2);
        PyObject *edges[3][2] = {{b, c}, {a, c}, {a, b}};
        for (int m = 0; m < 3; m++) {
            PyObject *edge = edge_of(edges[m][0], edges[m][1]);
            if (edge == NULL) {
                goto done;
            }
            PyObject *owners = PyDict_GetItemWithError(facets, edge);
            int failed;
            if (owners != NULL) {
                failed = PyList_Append(owners, triangle) < 0;
            }
            else if (PyErr_Occurred()) {
                failed = 1;
            }
            else {
                PyObject *fresh = PyList_New(1);
                failed = fresh == NULL;
                if (!failed) {
                    Py_INCREF(triangle);
                    PyList_SET_ITEM(fresh, 0, triangle);
                    failed = PyDict_SetItem(facets, edge, fresh) < 0;
                    Py_DECREF(fresh);
                }
            }
            Py_DECREF(edge);
            if (failed) {
                goto done;
            }
        }
        /* the circumcircle, as _circumsphere2 computes it */
        double ax, ay, bx, by, cx, cy;
        if (vertex_xy(vertices, a, &ax, &ay) < 0 || vertex_xy(vertices, b, &bx, &by) < 0
            || vertex_xy(vertices, c, &cx, &cy) < 0) {
            goto done;
        }
        bx = bx - ax;
        by = by - ay;
        cx = cx - ax;
        cy = cy - ay;
        double d = 2.0 * (bx * cy - by * cx);
        double numbers[4] = {Py_HUGE_VAL, Py_HUGE_VAL, Py_HUGE_VAL, Py_HUGE_VAL};
        if (d != 0.0) {
            double b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
            double ux = (cy * b2 - by * c2) / d;
            double uy = (bx * c2 - cx * b2) / d;
            double radius2 = ux * ux + uy * uy;
            numbers[0] = ax + ux;
            numbers[1] = ay + uy;
            numbers[2] = radius2 * low_factor;
            numbers[3] = radius2 * high_factor;
        }
        PyObject *sign_object = PyLong_FromLong(sign);
        PyObject *sphere = sign_object ? number_tuple(4, numbers, sign_object) : NULL;
        Py_XDECREF(sign_object);
        if (sphere == NULL || PyDict_SetItem(spheres, triangle, sphere) < 0) {
            Py_XDECREF(sphere);
            goto done;
        }
        Py_DECREF(sphere);
    }
    result = PyTuple_Pack(3, cavity, added, last ? last : Py_None);

done:
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        Py_DECREF(boundary[k].edge);
    }
    PyMem_Free(boundary);
    PyMem_Free(stack);
    Py_XDECREF(iterator);
    Py_XDECREF(cavity);
    Py_XDECREF(added);
    Py_XDECREF(last);
    return result;
}

/* ---- insert_3d(index, start, vertices, spheres, facets, simplices, vertex_to_simplices,
 *                in_circumsphere_exact, orient3) -> (cavity, added, last) or None
 *
 * Triangulation._insert_3d in C, as insert_2d above for tetrahedra: the cavity of the
 * tetrahedra whose circumsphere holds the new vertex, the check that the vertex sees every
 * boundary facet from the inside (None, nothing changed, when floating point cannot tell),
 * then the new tetrahedra around the vertex. ``orient3(a, b, c, d)`` is the exact Python
 * orientation, called only for a vertex on a facet of the hull.
 */
typedef struct {
    PyObject *facet;    /* (i, j, k), owned */
    int inside;         /* the orientation the vertex must have, seen from the cavity */
    int sign;           /* the orientation found; 0: skip (a hull facet the vertex lies on) */
} BoundaryFacet;

static int vertex_xyz(PyObject *vertices, PyObject *index, double *out)
{
    Py_ssize_t i = PyLong_AsSsize_t(index);
    if (i == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (i < 0 || i >= PyList_GET_SIZE(vertices)) {
        PyErr_Format(PyExc_IndexError, "vertex %zd is not in the triangulation", i);
        return -1;
    }
    PyObject *point = PyList_GET_ITEM(vertices, i);
    if (!PyTuple_Check(point) || PyTuple_GET_SIZE(point) != 3) {
        PyErr_SetString(PyExc_TypeError, "3D vertices must be (x, y, z) tuples");
        return -1;
    }
    for (int k = 0; k < 3; k++) {
        out[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(point, k));
        if (out[k] == -1.0 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
}

/* _orient3_float: the orientation of (a, b, c, d) when floating point is sure, else 0 */
static int orient3_float(const double *a, const double *b, const double *c, const double *d)
{
    const double bound = (7.0 + 56.0 * 0x1p-53) * 0x1p-53; /* _ORIENT3_BOUND */
    double adx = a[0] - d[0], ady = a[1] - d[1], adz = a[2] - d[2];
    double bdx = b[0] - d[0], bdy = b[1] - d[1], bdz = b[2] - d[2];
    double cdx = c[0] - d[0], cdy = c[1] - d[1], cdz = c[2] - d[2];
    double bc1 = bdy * cdz, bc2 = bdz * cdy;
    double ca1 = cdy * adz, ca2 = cdz * ady;
    double ab1 = ady * bdz, ab2 = adz * bdy;
    double det = adx * (bc1 - bc2) + bdx * (ca1 - ca2) + cdx * (ab1 - ab2);
    double permanent = (fabs(bc1) + fabs(bc2)) * fabs(adx) + (fabs(ca1) + fabs(ca2)) * fabs(bdx)
                       + (fabs(ab1) + fabs(ab2)) * fabs(cdx);
    if (fabs(det) > bound * permanent) {
        return det > 0 ? -1 : 1;
    }
    return 0;
}

static PyObject *insert_3d(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 9) {
        PyErr_Format(PyExc_TypeError, "insert_3d() takes 9 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *index = args[0], *start = args[1], *vertices = args[2], *spheres = args[3];
    PyObject *facets = args[4], *simplices = args[5], *vertex_to_simplices = args[6];
    PyObject *in_circumsphere = args[7], *orient3 = args[8];
    if (!PyLong_CheckExact(index) || !PyTuple_Check(start) || !PyList_CheckExact(vertices)
        || !PyDict_CheckExact(spheres) || !PyDict_CheckExact(facets)
        || !PyAnySet_CheckExact(simplices) || !PyList_CheckExact(vertex_to_simplices)) {
        PyErr_SetString(PyExc_TypeError, "insert_3d() got a triangulation of unexpected types");
        return NULL;
    }
    const double low_factor = 1.0 - 1e-9, high_factor = 1.0 + 1e-9; /* _INSPHERE_BAND */
    long new_index = PyLong_AsLong(index);
    double p[3];
    if (vertex_xyz(vertices, index, p) < 0) {
        return NULL;
    }
    PyObject *point = PyList_GET_ITEM(vertices, new_index);
    PyObject *result = NULL, *cavity = NULL, *added = NULL, *last = NULL, *iterator = NULL;
    PyObject **stack = NULL;
    BoundaryFacet *boundary = NULL;
    Py_ssize_t nstack = 0, stack_size = 16, nboundary = 0, boundary_size = 32;
    stack = PyMem_Malloc(stack_size * sizeof(PyObject *));
    boundary = PyMem_Malloc(boundary_size * sizeof(BoundaryFacet));
    cavity = PySet_New(NULL);
    if (stack == NULL || boundary == NULL || cavity == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (PySet_Add(cavity, start) < 0) {
        goto done;
    }
    stack[nstack++] = start;

    /* 1. the cavity and its boundary facets */
    while (nstack > 0) {
        PyObject *simplex = stack[--nstack];
        if (!PyTuple_Check(simplex) || PyTuple_GET_SIZE(simplex) != 4) {
            PyErr_SetString(PyExc_TypeError, "tetrahedra must be tuples of four indices");
            goto done;
        }
        PyObject *sphere_of_simplex = PyDict_GetItemWithError(spheres, simplex);
        if (sphere_of_simplex == NULL || !PyTuple_Check(sphere_of_simplex)
            || PyTuple_GET_SIZE(sphere_of_simplex) != 6) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_KeyError, "a tetrahedron has no circumsphere");
            }
            goto done;
        }
        long own_sign = PyLong_AsLong(PyTuple_GET_ITEM(sphere_of_simplex, 5));
        if (own_sign == -1 && PyErr_Occurred()) {
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(simplex, 0), *b = PyTuple_GET_ITEM(simplex, 1);
        PyObject *c = PyTuple_GET_ITEM(simplex, 2), *d = PyTuple_GET_ITEM(simplex, 3);
        PyObject *faces[4][3] = {{b, c, d}, {a, c, d}, {a, b, d}, {a, b, c}};
        const int parities[4] = {-1, 1, -1, 1};
        for (int k = 0; k < 4; k++) {
            PyObject *facet = PyTuple_Pack(3, faces[k][0], faces[k][1], faces[k][2]);
            if (facet == NULL) {
                goto done;
            }
            PyObject *owners = PyDict_GetItemWithError(facets, facet);
            if (owners == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, facet);
                }
                Py_DECREF(facet);
                goto done;
            }
            if (PyList_GET_SIZE(owners) == 2) {
                int first = PyObject_RichCompareBool(PyList_GET_ITEM(owners, 0), simplex, Py_EQ);
                if (first < 0) {
                    Py_DECREF(facet);
                    goto done;
                }
                PyObject *other = PyList_GET_ITEM(owners, first ? 1 : 0);
                int known = PySet_Contains(cavity, other);
                if (known) {
                    Py_DECREF(facet);
                    if (known < 0) {
                        goto done;
                    }
                    continue;
                }
                PyObject *sphere = PyDict_GetItemWithError(spheres, other);
                if (sphere == NULL || !PyTuple_Check(sphere) || PyTuple_GET_SIZE(sphere) != 6) {
                    if (!PyErr_Occurred()) {
                        PyErr_SetString(PyExc_KeyError, "a tetrahedron has no circumsphere");
                    }
                    Py_DECREF(facet);
                    goto done;
                }
                double center[3], low, high;
                for (int m = 0; m < 3; m++) {
                    center[m] = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, m));
                }
                low = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 3));
                high = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, 4));
                if (PyErr_Occurred()) {
                    Py_DECREF(facet);
                    goto done;
                }
                double distance2 = pow(p[0] - center[0], 2.0) + pow(p[1] - center[1], 2.0)
                                   + pow(p[2] - center[2], 2.0);
                int inside = distance2 < low;
                if (!inside && distance2 <= high) {
                    PyObject *corners = PyList_New(4);
                    if (corners == NULL) {
                        Py_DECREF(facet);
                        goto done;
                    }
                    for (Py_ssize_t m = 0; m < 4; m++) {
                        Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(other, m));
                        if (i < 0 || i >= PyList_GET_SIZE(vertices)) {
                            Py_DECREF(corners);
                            Py_DECREF(facet);
                            if (!PyErr_Occurred()) {
                                PyErr_SetString(PyExc_IndexError, "a vertex is out of range");
                            }
                            goto done;
                        }
                        PyObject *vertex = PyList_GET_ITEM(vertices, i);
                        Py_INCREF(vertex);
                        PyList_SET_ITEM(corners, m, vertex);
                    }
                    PyObject *answer = PyObject_CallFunctionObjArgs(in_circumsphere, corners,
                                                                    point, NULL);
                    Py_DECREF(corners);
                    inside = answer == NULL ? -1 : PyObject_IsTrue(answer);
                    Py_XDECREF(answer);
                    if (inside < 0) {
                        Py_DECREF(facet);
                        goto done;
                    }
                }
                if (inside) {
                    Py_DECREF(facet);
                    if (PySet_Add(cavity, other) < 0) {
                        goto done;
                    }
                    if (nstack == stack_size) {
                        stack_size *= 2;
                        PyObject **grown = PyMem_Realloc(stack, stack_size * sizeof(PyObject *));
                        if (grown == NULL) {
                            PyErr_NoMemory();
                            goto done;
                        }
                        stack = grown;
                    }
                    stack[nstack++] = other;
                    continue;
                }
            }
            if (nboundary == boundary_size) {
                boundary_size *= 2;
                BoundaryFacet *grown =
                    PyMem_Realloc(boundary, boundary_size * sizeof(BoundaryFacet));
                if (grown == NULL) {
                    Py_DECREF(facet);
                    PyErr_NoMemory();
                    goto done;
                }
                boundary = grown;
            }
            boundary[nboundary].facet = facet;
            boundary[nboundary].inside = (int)(parities[k] * own_sign);
            boundary[nboundary].sign = 0;
            nboundary++;
        }
    }

    /* 2. the new vertex must see every boundary facet from the cavity's side */
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        PyObject *facet = boundary[k].facet;
        double u[3], v[3], w[3];
        if (vertex_xyz(vertices, PyTuple_GET_ITEM(facet, 0), u) < 0
            || vertex_xyz(vertices, PyTuple_GET_ITEM(facet, 1), v) < 0
            || vertex_xyz(vertices, PyTuple_GET_ITEM(facet, 2), w) < 0) {
            goto done;
        }
        int seen = orient3_float(u, v, w, p);
        if (seen == 0) {
            /* the vertex may lie on the facet's plane: fine on the hull (no flat simplex) */
            PyObject *owners = PyDict_GetItemWithError(facets, facet);
            if (owners == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, facet);
                }
                goto done;
            }
            if (PyList_GET_SIZE(owners) == 1) {
                PyObject *exact = PyObject_CallFunctionObjArgs(
                    orient3, PyList_GET_ITEM(vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(facet, 0))),
                    PyList_GET_ITEM(vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(facet, 1))),
                    PyList_GET_ITEM(vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(facet, 2))), point,
                    NULL);
                if (exact == NULL) {
                    goto done;
                }
                long value = PyLong_AsLong(exact);
                Py_DECREF(exact);
                if (value == -1 && PyErr_Occurred()) {
                    goto done;
                }
                if (value == 0) {
                    continue; /* sign stays 0: skipped below */
                }
            }
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (seen != boundary[k].inside) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        boundary[k].sign = seen;
    }

    /* 3. remove the cavity */
    iterator = PyObject_GetIter(cavity);
    if (iterator == NULL) {
        goto done;
    }
    PyObject *simplex;
    while ((simplex = PyIter_Next(iterator)) != NULL) {
        int failed = set_remove(simplices, simplex) < 0 || PyDict_DelItem(spheres, simplex) < 0;
        PyObject *a = PyTuple_GET_ITEM(simplex, 0), *b = PyTuple_GET_ITEM(simplex, 1);
        PyObject *c = PyTuple_GET_ITEM(simplex, 2), *d = PyTuple_GET_ITEM(simplex, 3);
        PyObject *corners[4] = {a, b, c, d};
        for (int k = 0; k < 4 && !failed; k++) {
            PyObject *star = star_of(vertex_to_simplices, corners[k]);
            failed = star == NULL || set_remove(star, simplex) < 0;
        }
        PyObject *faces[4][3] = {{b, c, d}, {a, c, d}, {a, b, d}, {a, b, c}};
        for (int k = 0; k < 4 && !failed; k++) {
            PyObject *facet = PyTuple_Pack(3, faces[k][0], faces[k][1], faces[k][2]);
            PyObject *owners = facet ? PyDict_GetItemWithError(facets, facet) : NULL;
            if (owners == NULL) {
                if (facet != NULL && !PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, facet);
                }
                failed = 1;
            }
            else if (PyList_GET_SIZE(owners) == 1) {
                failed = PyDict_DelItem(facets, facet) < 0;
            }
            else {
                failed = list_remove(owners, simplex) < 0;
            }
            Py_XDECREF(facet);
        }
        Py_DECREF(simplex);
        if (failed) {
            goto done;
        }
    }
    Py_CLEAR(iterator);
    if (PyErr_Occurred()) {
        goto done;
    }

    /* 4. the new tetrahedra around the vertex */
    added = PySet_New(NULL);
    if (added == NULL) {
        goto done;
    }
    PyObject *new_star = star_of(vertex_to_simplices, index);
    if (new_star == NULL) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        if (boundary[k].sign == 0) {
            continue;
        }
        PyObject *i = PyTuple_GET_ITEM(boundary[k].facet, 0);
        PyObject *j = PyTuple_GET_ITEM(boundary[k].facet, 1);
        PyObject *m = PyTuple_GET_ITEM(boundary[k].facet, 2);
        long sign = boundary[k].sign;
        PyObject *tetrahedron;
        if (PyLong_AsLong(m) < new_index) {
            tetrahedron = untracked(PyTuple_Pack(4, i, j, m, index));
        }
        else { /* not reached while vertices are numbered in insertion order */
            PyObject *unsorted = PyList_New(0);
            if (unsorted == NULL || PyList_Append(unsorted, i) < 0
                || PyList_Append(unsorted, j) < 0 || PyList_Append(unsorted, m) < 0
                || PyList_Append(unsorted, index) < 0 || PyList_Sort(unsorted) < 0) {
                Py_XDECREF(unsorted);
                goto done;
            }
            tetrahedron = PyList_AsTuple(unsorted);
            Py_DECREF(unsorted);
            if (tetrahedron == NULL) {
                goto done;
            }
            PyObject *corners[4];
            for (int q = 0; q < 4; q++) {
                corners[q] = PyList_GET_ITEM(
                    vertices, PyLong_AsSsize_t(PyTuple_GET_ITEM(tetrahedron, q)));
            }
            PyObject *exact = PyObject_CallFunctionObjArgs(orient3, corners[0], corners[1],
                                                           corners[2], corners[3], NULL);
            sign = exact ? PyLong_AsLong(exact) : -1;
            Py_XDECREF(exact);
            if (PyErr_Occurred()) {
                Py_DECREF(tetrahedron);
                goto done;
            }
        }
        if (tetrahedron == NULL) {
            goto done;
        }
        Py_XSETREF(last, tetrahedron);
        PyObject *star_i = star_of(vertex_to_simplices, i);
        PyObject *star_j = star_of(vertex_to_simplices, j);
        PyObject *star_m = star_of(vertex_to_simplices, m);
        if (star_i == NULL || star_j == NULL || star_m == NULL
            || PySet_Add(simplices, tetrahedron) < 0 || PySet_Add(added, tetrahedron) < 0
            || PySet_Add(star_i, tetrahedron) < 0 || PySet_Add(star_j, tetrahedron) < 0
            || PySet_Add(star_m, tetrahedron) < 0 || PySet_Add(new_star, tetrahedron) < 0) {
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(tetrahedron, 0), *b = PyTuple_GET_ITEM(tetrahedron, 1);
        PyObject *c = PyTuple_GET_ITEM(tetrahedron, 2), *d = PyTuple_GET_ITEM(tetrahedron, 3);
        PyObject *faces[4][3] = {{b, c, d}, {a, c, d}, {a, b, d}, {a, b, c}};
        for (int q = 0; q < 4; q++) {
            PyObject *facet = untracked(PyTuple_Pack(3, faces[q][0], faces[q][1], faces[q][2]));
            if (facet == NULL) {
                goto done;
            }
            PyObject *owners = PyDict_GetItemWithError(facets, facet);
            int failed;
            if (owners != NULL) {
                failed = PyList_Append(owners, tetrahedron) < 0;
            }
            else if (PyErr_Occurred()) {
                failed = 1;
            }
            else {
                PyObject *fresh = PyList_New(1);
                failed = fresh == NULL;
                if (!failed) {
                    Py_INCREF(tetrahedron);
                    PyList_SET_ITEM(fresh, 0, tetrahedron);
                    failed = PyDict_SetItem(facets, facet, fresh) < 0;
                    Py_DECREF(fresh);
                }
            }
            Py_DECREF(facet);
            if (failed) {
                goto done;
            }
        }
        /* the circumsphere, as _circumsphere3 computes it */
        double va[3], vb[3], vc[3], vd[3];
        if (vertex_xyz(vertices, a, va) < 0 || vertex_xyz(vertices, b, vb) < 0
            || vertex_xyz(vertices, c, vc) < 0 || vertex_xyz(vertices, d, vd) < 0) {
            goto done;
        }
        double ux = vb[0] - va[0], uy = vb[1] - va[1], uz = vb[2] - va[2];
        double vx = vc[0] - va[0], vy = vc[1] - va[1], vz = vc[2] - va[2];
        double wx = vd[0] - va[0], wy = vd[1] - va[1], wz = vd[2] - va[2];
        double vw0 = vy * wz - vz * wy, vw1 = vz * wx - vx * wz, vw2 = vx * wy - vy * wx;
        double wu0 = wy * uz - wz * uy, wu1 = wz * ux - wx * uz, wu2 = wx * uy - wy * ux;
        double uv0 = uy * vz - uz * vy, uv1 = uz * vx - ux * vz, uv2 = ux * vy - uy * vx;
        double denominator = 2.0 * (ux * vw0 + uy * vw1 + uz * vw2);
        double numbers[5] = {Py_HUGE_VAL, Py_HUGE_VAL, Py_HUGE_VAL, Py_HUGE_VAL, Py_HUGE_VAL};
        if (denominator != 0.0) {
            double u2 = ux * ux + uy * uy + uz * uz;
            double v2 = vx * vx + vy * vy + vz * vz;
            double w2 = wx * wx + wy * wy + wz * wz;
            double ox = (u2 * vw0 + v2 * wu0 + w2 * uv0) / denominator;
            double oy = (u2 * vw1 + v2 * wu1 + w2 * uv1) / denominator;
            double oz = (u2 * vw2 + v2 * wu2 + w2 * uv2) / denominator;
            double radius2 = ox * ox + oy * oy + oz * oz;
            numbers[0] = va[0] + ox;
            numbers[1] = va[1] + oy;
            numbers[2] = va[2] + oz;
            numbers[3] = radius2 * low_factor;
            numbers[4] = radius2 * high_factor;
        }
        PyObject *sign_object = PyLong_FromLong(sign);
        PyObject *sphere = sign_object ? number_tuple(5, numbers, sign_object) : NULL;
        Py_XDECREF(sign_object);
        if (sphere == NULL || PyDict_SetItem(spheres, tetrahedron, sphere) < 0) {
            Py_XDECREF(sphere);
            goto done;
        }
        Py_DECREF(sphere);
    }
    result = PyTuple_Pack(3, cavity, added, last ? last : Py_None);

done:
    for (Py_ssize_t k = 0; k < nboundary; k++) {
        Py_DECREF(boundary[k].facet);
    }
    PyMem_Free(boundary);
    PyMem_Free(stack);
    Py_XDECREF(iterator);
    Py_XDECREF(cavity);
    Py_XDECREF(added);
    Py_XDECREF(last);
    return result;
}

static PyMethodDef methods[] = {
    {"flush_losses", (PyCFunction)(void (*)(void))flush_losses, METH_FASTCALL,
     "Recompute the dirty planes, vertex gradients and triangle losses of a Learner2D mesh."},
    {"exact_sum", (PyCFunction)exact_sum_py, METH_O,
     "The correctly rounded sum of a list of floats, as math.fsum (None: defers to it)."},
    {"insert_2d", (PyCFunction)(void (*)(void))insert_2d, METH_FASTCALL,
     "Bowyer-Watson insertion of a vertex into a 2D triangulation; None when a predicate is "
     "not certain in floating point (the caller then takes its general path)."},
    {"insert_3d", (PyCFunction)(void (*)(void))insert_3d, METH_FASTCALL,
     "Bowyer-Watson insertion of a vertex into a 3D triangulation; None when a predicate is "
     "not certain in floating point (the caller then takes its general path)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "C versions of the Learner2D's hot paths (optional; the Python modules compute the same).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    if (PyType_Ready(&LossQueueType) < 0) {
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) {
        return NULL;
    }
    Py_INCREF(&LossQueueType);
    if (PyModule_AddObject(created, "LossQueue", (PyObject *)&LossQueueType) < 0) {
        Py_DECREF(&LossQueueType);
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
