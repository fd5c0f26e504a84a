/* The Learner2D's loss update (``_Mesh.flush``) in C.
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
 *    ``(-loss, sx, sy, loss, t)`` in ``queue`` (a LossQueue, loss_queue.c).
 * Cases other than finite scalar values with known gradients call back into Python (the
 * ``*_fallback`` callables), so the rare paths have one implementation only.
 */
#include "speedups.h"

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

PyObject *flush_losses(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
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
