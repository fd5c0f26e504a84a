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
    InsertArguments a;
    double p[2];
    if (parse_insert_arguments("insert_2d", args, nargs, 2, &a, p) < 0) {
        return NULL;
    }
    PyObject *index = a.index, *start = a.start, *vertices = a.vertices, *spheres = a.spheres;
    PyObject *facets = a.facets, *simplices = a.simplices;
    PyObject *vertex_to_simplices = a.vertex_to_simplices, *in_circumsphere = a.in_circumsphere;
    PyObject *orient2 = a.orient, *point = a.point;
    const double bound = (3.0 + 16.0 * 0x1p-53) * 0x1p-53; /* _ORIENT2_BOUND */
    const double px = p[0], py = p[1];
    const double low_factor = 1.0 - 1e-9, high_factor = 1.0 + 1e-9; /* _INSPHERE_BAND */
    PyObject *result = NULL, *cavity = NULL, *added = NULL, *last = NULL;
    BoundaryList boundary = {NULL, 0, 0};

    /* 1. the cavity and its boundary edges */
    cavity = grow_cavity(start, p, 2, point, vertices, spheres, facets, in_circumsphere,
                         &boundary);
    if (cavity == NULL) {
        goto done;
    }

    /* 2. the new vertex must see every boundary edge from the cavity's side */
    for (Py_ssize_t k = 0; k < boundary.size; k++) {
        double u[2], v[2], w[2];
        PyObject *edge = boundary.items[k].facet;
        if (vertex_coordinates(vertices, PyTuple_GET_ITEM(edge, 0), 2, u) < 0
            || vertex_coordinates(vertices, PyTuple_GET_ITEM(edge, 1), 2, v) < 0
            || vertex_coordinates(vertices, boundary.items[k].opposite, 2, w) < 0) {
            goto done;
        }
        const double ux = u[0], uy = u[1], vx = v[0], vy = v[1], wx = w[0], wy = w[1];
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
            int on_hull = on_hull_facet(facets, edge, vertices, point, orient2);
            if (on_hull < 0) {
                goto done;
            }
            if (on_hull) {
                continue; /* its sign stays 0: skipped below */
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
        long sign = boundary.items[k].sign;
        PyObject *triangle = new_simplex(boundary.items[k].facet, index, vertices, orient2, &sign);
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
        double pa[2], pb[2], pc[2];
        if (vertex_coordinates(vertices, a, 2, pa) < 0
            || vertex_coordinates(vertices, b, 2, pb) < 0
            || vertex_coordinates(vertices, c, 2, pc) < 0) {
            goto done;
        }
        double ax = pa[0], ay = pa[1], bx = pb[0], by = pb[1], cx = pc[0], cy = pc[1];
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
        if (store_sphere(spheres, triangle, numbers, 4, sign) < 0) {
            goto done;
        }
    }
    result = PyTuple_Pack(3, cavity, added, last ? last : Py_None);

done:
    free_boundary(&boundary);
    Py_XDECREF(cavity);
    Py_XDECREF(added);
    Py_XDECREF(last);
    return result;
}
