#include "speedups.h"

/* ---- insert_3d(index, start, vertices, spheres, facets, simplices, vertex_to_simplices,
 *                in_circumsphere_exact, orient3) -> (cavity, added, last) or None
 *
 * Triangulation._insert_3d in C, as insert_2d (insert2d.c) for tetrahedra: the cavity of the
 * tetrahedra whose circumsphere holds the new vertex, the check that the vertex sees every
 * boundary facet from the inside (None, nothing changed, when floating point cannot tell),
 * then the new tetrahedra around the vertex. ``orient3(a, b, c, d)`` is the exact Python
 * orientation, called only for a vertex on a facet of the hull.
 */
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

PyObject *insert_3d(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
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
    PyObject *result = NULL, *cavity = NULL, *added = NULL, *last = NULL;
    BoundaryList boundary = {NULL, 0, 0};

    /* 1. the cavity and its boundary facets */
    cavity = grow_cavity(start, p, 3, point, vertices, spheres, facets, in_circumsphere,
                         &boundary);
    if (cavity == NULL) {
        goto done;
    }

    /* 2. the new vertex must see every boundary facet from the cavity's side */
    for (Py_ssize_t k = 0; k < boundary.size; k++) {
        PyObject *facet = boundary.items[k].facet;
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
        if (seen != boundary.items[k].inside) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        boundary.items[k].sign = seen;
    }

    /* 3. remove the cavity */
    if (remove_cavity(cavity, simplices, spheres, facets, vertex_to_simplices) < 0) {
        goto done;
    }

    /* 4. the new tetrahedra around the vertex */
    added = PySet_New(NULL);
    if (added == NULL) {
        goto done;
    }
    for (Py_ssize_t k = 0; k < boundary.size; k++) {
        if (boundary.items[k].sign == 0) {
            continue;
        }
        PyObject *i = PyTuple_GET_ITEM(boundary.items[k].facet, 0);
        PyObject *j = PyTuple_GET_ITEM(boundary.items[k].facet, 1);
        PyObject *m = PyTuple_GET_ITEM(boundary.items[k].facet, 2);
        long sign = boundary.items[k].sign;
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
        if (link_simplex(tetrahedron, simplices, added, vertex_to_simplices, facets) < 0) {
            goto done;
        }
        PyObject *a = PyTuple_GET_ITEM(tetrahedron, 0), *b = PyTuple_GET_ITEM(tetrahedron, 1);
        PyObject *c = PyTuple_GET_ITEM(tetrahedron, 2), *d = PyTuple_GET_ITEM(tetrahedron, 3);
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
    free_boundary(&boundary);
    Py_XDECREF(cavity);
    Py_XDECREF(added);
    Py_XDECREF(last);
    return result;
}
