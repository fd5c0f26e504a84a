/* Helpers shared by the ``_speedups`` sources: reading points and triangles from the Python
 * structures, exact sums, tuples of numbers, growing arrays. */
#include "speedups.h"

/* a point is a tuple of two floats */
int point_xy(PyObject *point, double *x, double *y)
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

/* The three corners of the triangle (a, b, c) of ``points``, in coordinate order: the same
 * swaps as the Python code, and Python's tuple order (x first, then y) on finite floats. */
int sorted_corners(PyObject *points, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c,
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
int exact_sum(const double *values, Py_ssize_t n, double *result)
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
PyObject *number_tuple(Py_ssize_t n, const double *values, PyObject *last)
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
PyObject *untracked(PyObject *tuple)
{
    if (tuple != NULL) {
        PyObject_GC_UnTrack(tuple);
    }
    return tuple;
}

/* a triangle is a tuple of three vertex indices */
int triangle_vertices(PyObject *t, Py_ssize_t size, Py_ssize_t *a, Py_ssize_t *b,
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
int add_all(PyObject *target, PyObject *items)
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
int is_nonfinite(PyObject *nonfinite, Py_ssize_t i)
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

int grow_array(void **array, Py_ssize_t *capacity, Py_ssize_t needed, size_t item)
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

/* For the tests: exact_sum of a list of floats, or None when it defers to math.fsum. */
PyObject *exact_sum_py(PyObject *module, PyObject *list)
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
