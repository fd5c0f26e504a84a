/* Helpers of the C insertions (insert2d.c, insert3d.c, cavity.c) that read and change the
 * triangulation's Python structures the way triangulation.py does: vertex coordinates,
 * vertex stars, facet owners, circumsphere records, and the simplices of a cavity. */
#include "speedups.h"

/* The coordinates of the vertices ``indices`` (a tuple of int objects), followed by ``extra``
 * when it is not NULL, as a new tuple of the vertices' own point tuples: the argument the exact
 * Python predicates take. NULL on error. */
PyObject *corner_points(PyObject *vertices, PyObject *indices, PyObject *extra)
{
    Py_ssize_t size = PyTuple_GET_SIZE(indices);
    PyObject *corners = PyTuple_New(size + (extra != NULL));
    if (corners == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(indices, k));
        if (i < 0 || i >= PyList_GET_SIZE(vertices)) {
            Py_DECREF(corners);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_IndexError, "a simplex has a vertex out of range");
            }
            return NULL;
        }
        PyObject *vertex = PyList_GET_ITEM(vertices, i);
        Py_INCREF(vertex);
        PyTuple_SET_ITEM(corners, k, vertex);
    }
    if (extra != NULL) {
        Py_INCREF(extra);
        PyTuple_SET_ITEM(corners, size, extra);
    }
    return corners;
}

/* The ``dim`` coordinates of vertex ``index`` (an int object) of ``vertices`` into ``out``. */
int vertex_coordinates(PyObject *vertices, PyObject *index, int dim, double *out)
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
    if (!PyTuple_Check(point) || PyTuple_GET_SIZE(point) != dim) {
        PyErr_Format(PyExc_TypeError, "vertices must be tuples of %d coordinates", dim);
        return -1;
    }
    for (int k = 0; k < dim; k++) {
        out[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(point, k));
        if (out[k] == -1.0 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
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

/* The new simplex on ``facet`` and the new vertex ``index`` (new reference), with its
 * orientation in ``*sign`` (on entry: the orientation of (facet, vertex) found by the caller).
 * The vertex's number is the largest while vertices are numbered in insertion order, so the
 * simplex is (facet..., index) as it stands; otherwise it is sorted and ``orient`` (the exact
 * Python orientation) gives its sign, as in the Python code. NULL on error. */
PyObject *new_simplex(PyObject *facet, PyObject *index, PyObject *vertices, PyObject *orient,
                      long *sign)
{
    Py_ssize_t size = PyTuple_GET_SIZE(facet);
    PyObject *simplex = PyTuple_New(size + 1);
    if (simplex == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < size; k++) {
        PyObject *vertex = PyTuple_GET_ITEM(facet, k);
        Py_INCREF(vertex);
        PyTuple_SET_ITEM(simplex, k, vertex);
    }
    Py_INCREF(index);
    PyTuple_SET_ITEM(simplex, size, index);
    int in_order = PyObject_RichCompareBool(PyTuple_GET_ITEM(facet, size - 1), index, Py_LT);
    if (in_order < 0) {
        Py_DECREF(simplex);
        return NULL;
    }
    if (in_order) {
        return untracked(simplex);
    }
    PyObject *items = PySequence_List(simplex);
    Py_DECREF(simplex);
    if (items == NULL || PyList_Sort(items) < 0) {
        Py_XDECREF(items);
        return NULL;
    }
    simplex = PyList_AsTuple(items);
    Py_DECREF(items);
    if (simplex == NULL) {
        return NULL;
    }
    PyObject *corners = corner_points(vertices, simplex, NULL);
    PyObject *exact = corners ? PyObject_Call(orient, corners, NULL) : NULL;
    Py_XDECREF(corners);
    *sign = exact ? PyLong_AsLong(exact) : -1;
    Py_XDECREF(exact);
    if (PyErr_Occurred()) {
        Py_DECREF(simplex);
        return NULL;
    }
    return simplex;
}

/* spheres[simplex] = (numbers..., sign), the circumsphere record; 0, or -1 on error */
int store_sphere(PyObject *spheres, PyObject *simplex, const double *numbers, Py_ssize_t n,
                 long sign)
{
    PyObject *sign_object = PyLong_FromLong(sign);
    PyObject *sphere = sign_object ? number_tuple(n, numbers, sign_object) : NULL;
    Py_XDECREF(sign_object);
    int failed = sphere == NULL || PyDict_SetItem(spheres, simplex, sphere) < 0;
    Py_XDECREF(sphere);
    return failed ? -1 : 0;
}

/* 1 when ``facet`` is on the hull (one owner) and ``point`` lies exactly in its plane
 * (``orient``, the exact Python orientation, of the facet's vertices and the point is 0):
 * then no simplex is made on it. 0 otherwise, -1 on error. */
int on_hull_facet(PyObject *facets, PyObject *facet, PyObject *vertices, PyObject *point,
                  PyObject *orient)
{
    PyObject *owners = PyDict_GetItemWithError(facets, facet);
    if (owners == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetObject(PyExc_KeyError, facet);
        }
        return -1;
    }
    if (PyList_GET_SIZE(owners) != 1) {
        return 0;
    }
    PyObject *corners = corner_points(vertices, facet, point);
    if (corners == NULL) {
        return -1;
    }
    PyObject *exact = PyObject_Call(orient, corners, NULL);
    Py_DECREF(corners);
    if (exact == NULL) {
        return -1;
    }
    long value = PyLong_AsLong(exact);
    Py_DECREF(exact);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    return value == 0;
}

/* Check and unpack the arguments (index, start, vertices, spheres, facets, simplices,
 * vertex_to_simplices, in_circumsphere_exact, orient) of insert_2d / insert_3d; the new
 * vertex's ``dim`` coordinates go into ``p``. 0, or -1 with an exception set. */
int parse_insert_arguments(const char *name, PyObject *const *args, Py_ssize_t nargs, int dim,
                           InsertArguments *out, double *p)
{
    if (nargs != 9) {
        PyErr_Format(PyExc_TypeError, "%s() takes 9 arguments (%zd given)", name, nargs);
        return -1;
    }
    *out = (InsertArguments){args[0], args[1], args[2], args[3], args[4],
                             args[5], args[6], args[7], args[8], NULL};
    if (!PyLong_CheckExact(out->index) || !PyTuple_Check(out->start)
        || !PyList_CheckExact(out->vertices) || !PyDict_CheckExact(out->spheres)
        || !PyDict_CheckExact(out->facets) || !PyAnySet_CheckExact(out->simplices)
        || !PyList_CheckExact(out->vertex_to_simplices)) {
        PyErr_Format(PyExc_TypeError, "%s() got a triangulation of unexpected types", name);
        return -1;
    }
    if (vertex_coordinates(out->vertices, out->index, dim, p) < 0) {
        return -1;
    }
    out->point = PyList_GET_ITEM(out->vertices, PyLong_AsSsize_t(out->index));
    return 0;
}
