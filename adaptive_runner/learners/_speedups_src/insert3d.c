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
    InsertArguments a;
    double p[3];
    if (parse_insert_arguments("insert_3d", args, nargs, 3, &a, p) < 0) {
        return NULL;
    }
    PyObject *index = a.index, *start = a.start, *vertices = a.vertices, *spheres = a.spheres;
    PyObject *facets = a.facets, *simplices = a.simplices;
    PyObject *vertex_to_simplices = a.vertex_to_simplices, *in_circumsphere = a.in_circumsphere;
    PyObject *orient3 = a.orient, *point = a.point;
    const double low_factor = 1.0 - 1e-9, high_factor = 1.0 + 1e-9; /* _INSPHERE_BAND */
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
        if (vertex_coordinates(vertices, PyTuple_GET_ITEM(facet, 0), 3, u) < 0
            || vertex_coordinates(vertices, PyTuple_GET_ITEM(facet, 1), 3, v) < 0
            || vertex_coordinates(vertices, PyTuple_GET_ITEM(facet, 2), 3, w) < 0) {
            goto done;
        }
        int seen = orient3_float(u, v, w, p);
        if (seen == 0) {
            /* the vertex may lie on the facet's plane: fine on the hull (no flat simplex) */
            int on_hull = on_hull_facet(facets, facet, vertices, point, orient3);
            if (on_hull < 0) {
                goto done;
            }
            if (on_hull) {
                continue; /* its sign stays 0: skipped below */
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
        long sign = boundary.items[k].sign;
        PyObject *tetrahedron =
            new_simplex(boundary.items[k].facet, index, vertices, orient3, &sign);
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
        if (vertex_coordinates(vertices, a, 3, va) < 0
            || vertex_coordinates(vertices, b, 3, vb) < 0
            || vertex_coordinates(vertices, c, 3, vc) < 0
            || vertex_coordinates(vertices, d, 3, vd) < 0) {
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
        if (store_sphere(spheres, tetrahedron, numbers, 5, sign) < 0) {
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
