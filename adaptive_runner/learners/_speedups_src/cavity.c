/* The cavity search shared by insert_2d and insert_3d: the simplices whose circumsphere holds
 * the new vertex, found by walking across facets from a simplex that contains it, and the
 * facets on the cavity's boundary. The same walk as Triangulation._insert_2d / _insert_3d:
 * the same order of simplices and facets, so the same boundary list. */
#include "speedups.h"

/* in_circumsphere_exact([vertices of simplex], point) as 1/0, -1 on error */
static int in_sphere_exact(PyObject *predicate, PyObject *vertices, PyObject *simplex,
                           PyObject *point)
{
    PyObject *corners = corner_points(vertices, simplex, NULL);
    if (corners == NULL) {
        return -1;
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

/* spheres[simplex]: (center (dim floats), low, high, orientation sign), borrowed */
static PyObject *sphere_of(PyObject *spheres, PyObject *simplex, int dim)
{
    PyObject *sphere = PyDict_GetItemWithError(spheres, simplex);
    if (sphere == NULL || !PyTuple_Check(sphere) || PyTuple_GET_SIZE(sphere) != dim + 3) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_KeyError, "a simplex has no circumsphere");
        }
        return NULL;
    }
    return sphere;
}

/* 1 when ``point`` (coordinates p) is inside the circumsphere of ``simplex``, 0 when not,
 * -1 on error: as Python computes ``sum((p - c) ** 2)`` against the cached band, exactly when
 * within it. */
static int in_sphere(PyObject *simplex, const double *p, int dim, PyObject *point,
                     PyObject *vertices, PyObject *spheres, PyObject *predicate)
{
    PyObject *sphere = sphere_of(spheres, simplex, dim);
    if (sphere == NULL) {
        return -1;
    }
    double distance2 = 0.0;
    for (int m = 0; m < dim; m++) {
        double center = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, m));
        /* Python's (p - c) ** 2, summed left to right */
        distance2 = m == 0 ? pow(p[m] - center, 2.0) : distance2 + pow(p[m] - center, 2.0);
    }
    double low = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, dim));
    double high = PyFloat_AsDouble(PyTuple_GET_ITEM(sphere, dim + 1));
    if (PyErr_Occurred()) {
        return -1;
    }
    if (distance2 < low) {
        return 1;
    }
    if (distance2 > high) {
        return 0;
    }
    return in_sphere_exact(predicate, vertices, simplex, point);
}

static int push_boundary(BoundaryList *boundary, PyObject *facet, PyObject *opposite,
                         int inside)
{
    if (grow_array((void **)&boundary->items, &boundary->capacity, boundary->size + 1,
                   sizeof(BoundaryFacet)) < 0) {
        return -1;
    }
    BoundaryFacet *item = &boundary->items[boundary->size++];
    item->facet = facet; /* the reference is handed over */
    item->opposite = opposite;
    item->inside = inside;
    item->sign = 0;
    return 0;
}

void free_boundary(BoundaryList *boundary)
{
    for (Py_ssize_t k = 0; k < boundary->size; k++) {
        Py_DECREF(boundary->items[k].facet);
    }
    PyMem_Free(boundary->items);
    boundary->items = NULL;
    boundary->size = boundary->capacity = 0;
}

PyObject *grow_cavity(PyObject *start, const double *p, int dim, PyObject *point,
                      PyObject *vertices, PyObject *spheres, PyObject *facets,
                      PyObject *predicate, BoundaryList *boundary)
{
    PyObject *cavity = PySet_New(NULL);
    PyObject **stack = NULL;
    Py_ssize_t nstack = 0, stack_capacity = 0;
    if (cavity == NULL || PySet_Add(cavity, start) < 0
        || grow_array((void **)&stack, &stack_capacity, 1, sizeof(PyObject *)) < 0) {
        goto error;
    }
    stack[nstack++] = start; /* borrowed: the cavity set holds every simplex on the stack */
    while (nstack > 0) {
        PyObject *simplex = stack[--nstack];
        if (!PyTuple_Check(simplex) || PyTuple_GET_SIZE(simplex) != dim + 1) {
            PyErr_Format(PyExc_TypeError, "simplices must be tuples of %d indices", dim + 1);
            goto error;
        }
        long own_sign = 0; /* the orientation of the simplex, for the 3D boundary test */
        if (dim == 3) {
            PyObject *sphere = sphere_of(spheres, simplex, dim);
            own_sign = sphere ? PyLong_AsLong(PyTuple_GET_ITEM(sphere, dim + 2)) : -1;
            if (PyErr_Occurred()) {
                goto error;
            }
        }
        for (int k = 0; k <= dim; k++) {
            PyObject *facet = facet_without(simplex, k);
            if (facet == NULL) {
                goto error;
            }
            PyObject *owners = PyDict_GetItemWithError(facets, facet);
            if (owners == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, facet);
                }
                Py_DECREF(facet);
                goto error;
            }
            if (PyList_GET_SIZE(owners) == 2) {
                int first = PyObject_RichCompareBool(PyList_GET_ITEM(owners, 0), simplex, Py_EQ);
                PyObject *other = PyList_GET_ITEM(owners, first > 0 ? 1 : 0);
                int found = first < 0 ? -1 : PySet_Contains(cavity, other);
                if (found == 0) {
                    found = in_sphere(other, p, dim, point, vertices, spheres, predicate);
                    if (found == 1) {
                        if (PySet_Add(cavity, other) < 0
                            || grow_array((void **)&stack, &stack_capacity, nstack + 1,
                                          sizeof(PyObject *)) < 0) {
                            found = -1;
                        }
                        else {
                            stack[nstack++] = other;
                        }
                    }
                }
                if (found != 0) { /* in the cavity already, or now, or an error */
                    Py_DECREF(facet);
                    if (found < 0) {
                        goto error;
                    }
                    continue;
                }
            }
            /* facet k of a simplex of sorted vertices: -1, 1, -1, 1 relative to its order */
            int parity = k % 2 == 0 ? -1 : 1;
            if (push_boundary(boundary, facet, PyTuple_GET_ITEM(simplex, k),
                              (int)(parity * own_sign)) < 0) {
                Py_DECREF(facet);
                goto error;
            }
        }
    }
    PyMem_Free(stack);
    return cavity;
error:
    PyMem_Free(stack);
    Py_XDECREF(cavity);
    return NULL;
}
