#include "speedups.h"

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
PyObject *insert_2d(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
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
    PyObject *result = NULL, *cavity = NULL, *added = NULL, *last = NULL;
    BoundaryList boundary = {NULL, 0, 0};
    const double p[2] = {px, py};

    /* 1. the cavity and its boundary edges */
    cavity = grow_cavity(start, p, 2, point, vertices, spheres, facets, in_circumsphere,
                         &boundary);
    if (cavity == NULL) {
        goto done;
    }

    /* 2. the new vertex must see every boundary edge from the cavity's side */
    for (Py_ssize_t k = 0; k < boundary.size; k++) {
        double ux, uy, vx, vy, wx, wy;
        PyObject *edge = boundary.items[k].facet;
        if (vertex_xy(vertices, PyTuple_GET_ITEM(edge, 0), &ux, &uy) < 0
            || vertex_xy(vertices, PyTuple_GET_ITEM(edge, 1), &vx, &vy) < 0
            || vertex_xy(vertices, boundary.items[k].opposite, &wx, &wy) < 0) {
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
                    boundary.items[k].sign = 0; /* skipped below */
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
        boundary.items[k].sign = det_p > 0 ? 1 : -1;
    }

    /* 3. remove the cavity */
    if (remove_cavity(cavity, simplices, spheres, facets, vertex_to_simplices) < 0) {
        goto done;
    }

    /* 4. the fan of new triangles around the vertex */
    added = PySet_New(NULL);
    if (added == NULL) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < boundary.size; k++) {
        if (boundary.items[k].sign == 0) {
            continue; /* a hull edge the vertex lies on */
        }
        PyObject *i = PyTuple_GET_ITEM(boundary.items[k].facet, 0);
        PyObject *j = PyTuple_GET_ITEM(boundary.items[k].facet, 1);
        long sign = boundary.items[k].sign;
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
        if (link_simplex(triangle, simplices, added, vertex_to_simplices, facets) < 0) {
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(triangle, 0), *b = PyTuple_GET_ITEM(triangle, 1);
        PyObject *c = PyTuple_GET_ITEM(triangle, 2);
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
    free_boundary(&boundary);
    Py_XDECREF(cavity);
    Py_XDECREF(added);
    Py_XDECREF(last);
    return result;
}
