#include "speedups.h"

/* ---- LossQueue: the heap entries of the triangles, by triangle, with the smallest at hand.
 *
 * The C version of learners/loss_queue.py's LossQueue (same methods, same order of entries):
 * an entry is a tuple of 4 or 5 floats followed by its triangle (a tuple of three vertex
 * indices); entries compare as Python compares the tuples. Kept as an indexed binary heap of
 * plain doubles (an update moves the entry in place: no stale entries, no tuple per entry),
 * so ``top()`` costs O(1) and ``set`` O(log n) without touching Python objects.
 */
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

/* set the entry of ``triangle`` to ``key`` (nkey floats); 0 or -1 on error */
int queue_set(LossQueue *self, PyObject *triangle, const double *key, int nkey)
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

int queue_set_entry(LossQueue *self, PyObject *triangle, PyObject *entry)
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

int queue_discard(LossQueue *self, PyObject *triangle)
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

PyTypeObject LossQueueType = {
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
