/* Helpers shared by the ``_speedups`` sources: reading points, triangles and vertex stars
 * from the Python structures, exact sums, and tuples of numbers. */
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

/* the sorted pair (first, second) as a new tuple; the items are already sorted */
PyObject *edge_of(PyObject *first, PyObject *second)
{
    return PyTuple_Pack(2, first, second);
}

int vertex_xy(PyObject *vertices, PyObject *index, double *x, double *y)
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
int list_remove(PyObject *list, PyObject *item)
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
int set_remove(PyObject *set, PyObject *item)
{
    int found = PySet_Discard(set, item);
    if (found == 0) {
        PyErr_SetObject(PyExc_KeyError, item);
        return -1;
    }
    return found < 0 ? -1 : 0;
}

/* ``vertex_to_simplices[i]`` for the vertex object ``index`` (borrowed) */
PyObject *star_of(PyObject *vertex_to_simplices, PyObject *index)
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

/* The facet of ``simplex`` without its k-th vertex, as a new tuple: the triangulation's facet
 * keys keep the simplex's (sorted) order. Holds only integers, so left untracked. */
PyObject *facet_without(PyObject *simplex, Py_ssize_t k)
{
    Py_ssize_t size = PyTuple_GET_SIZE(simplex);
    PyObject *facet = PyTuple_New(size - 1);
    if (facet == NULL) {
        return NULL;
    }
    for (Py_ssize_t from = 0, to = 0; from < size; from++) {
        if (from != k) {
            PyObject *vertex = PyTuple_GET_ITEM(simplex, from);
            Py_INCREF(vertex);
            PyTuple_SET_ITEM(facet, to++, vertex);
        }
    }
    return untracked(facet);
}

/* Take every simplex of ``cavity`` out of the triangulation's structures, as
 * Triangulation._remove_simplex does: ``simplices``, ``spheres``, the stars of its vertices,
 * and its facets' owners (a facet owned by it alone goes). 0, or -1 on error. */
int remove_cavity(PyObject *cavity, PyObject *simplices, PyObject *spheres, PyObject *facets,
                  PyObject *vertex_to_simplices)
{
    PyObject *iterator = PyObject_GetIter(cavity), *simplex;
    if (iterator == NULL) {
        return -1;
    }
    while ((simplex = PyIter_Next(iterator)) != NULL) {
        Py_ssize_t size = PyTuple_GET_SIZE(simplex);
        int failed = set_remove(simplices, simplex) < 0 || PyDict_DelItem(spheres, simplex) < 0;
        for (Py_ssize_t k = 0; k < size && !failed; k++) {
            PyObject *star = star_of(vertex_to_simplices, PyTuple_GET_ITEM(simplex, k));
            failed = star == NULL || set_remove(star, simplex) < 0;
        }
        for (Py_ssize_t k = 0; k < size && !failed; k++) {
            PyObject *facet = facet_without(simplex, k);
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
            Py_DECREF(iterator);
            return -1;
        }
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

/* Put a new simplex into the triangulation's structures: ``simplices``, ``added``, the stars
 * of its vertices, and as an owner of each of its facets. 0, or -1 on error. */
int link_simplex(PyObject *simplex, PyObject *simplices, PyObject *added,
                 PyObject *vertex_to_simplices, PyObject *facets)
{
    Py_ssize_t size = PyTuple_GET_SIZE(simplex);
    if (PySet_Add(simplices, simplex) < 0 || PySet_Add(added, simplex) < 0) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        PyObject *star = star_of(vertex_to_simplices, PyTuple_GET_ITEM(simplex, k));
        if (star == NULL || PySet_Add(star, simplex) < 0) {
            return -1;
        }
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        PyObject *facet = facet_without(simplex, k);
        if (facet == NULL) {
            return -1;
        }
        PyObject *owners = PyDict_GetItemWithError(facets, facet);
        int failed;
        if (owners != NULL) {
            failed = PyList_Append(owners, simplex) < 0;
        }
        else if (PyErr_Occurred()) {
            failed = 1;
        }
        else {
            PyObject *fresh = PyList_New(1);
            failed = fresh == NULL;
            if (!failed) {
                Py_INCREF(simplex);
                PyList_SET_ITEM(fresh, 0, simplex);
                failed = PyDict_SetItem(facets, facet, fresh) < 0;
                Py_DECREF(fresh);
            }
        }
        Py_DECREF(facet);
        if (failed) {
            return -1;
        }
    }
    return 0;
}
