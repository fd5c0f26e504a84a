/* Mesh2D: the Learner2D's mesh in C arrays, for scalar values and the default loss.
 *
 * learner2D._Mesh keeps its triangulation (a Triangulation) and its planes, gradients and
 * losses in Python objects: tuples, sets and dicts that end up scattered over the heap, so at
 * 10,000 points every update misses the cache many times. This type holds the same state in
 * flat arrays (a vertex array; a triangle array with the neighbour across each edge, the
 * circumcircle, the plane and the loss; an indexed heap of the losses) and does the same
 * computations, with the same floating-point operations in the same order, so the results are
 * bitwise those of _Mesh (tests/learners/test_speedups.py compares the two):
 *
 * - insertion: Bowyer-Watson as Triangulation.add_point does it for a 2D point: the same
 *   located triangle (walk, hint), the same in-circle test (the cached band, the exact Python
 *   predicate within it), the same cavity repair (every boundary edge must be seen strictly
 *   from inside, or the triangle beyond it joins the cavity), so the same triangles and
 *   circumcircles;
 * - the points are perturbed as learner2D._perturbed does (a function of the coordinates);
 * - planes, vertex gradients (exact sums, as math.fsum) and the losses of _Mesh._entry, marked
 *   dirty by the same changes and recomputed at the next flush;
 * - the heap orders the entries as Python orders the tuples (-loss, sx, sy, loss, t) and
 *   (-inf, -area, sx, sy, inf, t).
 *
 * Close calls use the Python exact predicates (orient2, in_circumsphere_exact) and sums that
 * overflow or are zero use math.fsum, passed in at construction, so they have one
 * implementation only. The object holds no Python objects but the ``index`` dict (key ->
 * vertex) and those functions, so the garbage collector has nothing to visit here.
 */
#include "speedups.h"

#include <stdint.h>
#include <structmember.h>

enum { UNKNOWN = 0, FINITE = 1, NONFINITE = 2 };

#define PERTURBATION 1e-8
#define CIRCUMCENTER_MARGIN 0.1
#define INSPHERE_BAND 1e-9
#define ORIENT2_BOUND ((3.0 + 16.0 * 0x1p-53) * 0x1p-53)

typedef struct {
    double x, y;   /* the scaled point: planes, losses, split points, interpolation */
    double px, py; /* the perturbed point: the triangulation */
    double value;
    double gx, gy;
    int32_t triangle; /* one triangle around it */
    int8_t state, has_gradient, dirty;
} Vertex;

typedef struct {
    int32_t v[3];  /* sorted vertex indices; v[0] < 0: a free slot */
    int32_t nb[3]; /* the triangle across the edge opposite v[k], -1 on the hull */
    double cx, cy, low, high; /* circumcircle (perturbed points), squared-radius band */
    double wx, wy, area;      /* plane: gradient times area, and area */
    double key[5];            /* the loss entry without its triangle */
    int32_t heap;             /* position in the heap, -1 when not in it */
    int32_t visit;            /* the last insertion that put it in its cavity */
    int8_t sign, nkey, has_plane, plane_dirty, loss_dirty, unsplittable;
} Triangle;

typedef struct {
    double first; /* key[0] of the triangle: most comparisons end here */
    int32_t t;
} HeapItem;

/* a boundary edge of a cavity: the edge (u, v) opposite vertex w of cavity triangle t, the
 * triangle beyond it (-1: the hull), and the orientation of (u, v, new point) */
typedef struct {
    int32_t t, u, v, w, outside;
    int sign;
} Edge;

typedef struct {
    int32_t *items;
    Py_ssize_t size, capacity;
} IntList;

typedef struct {
    PyObject_HEAD
    Vertex *vertices;
    Py_ssize_t nvertices, vertex_capacity;
    Triangle *triangles;
    Py_ssize_t nslots, slot_capacity, alive;
    IntList free_slots, dirty_planes, dirty_vertices, changed, cavity, stack, extra;
    HeapItem *heap;
    Py_ssize_t heap_size, heap_capacity;
    Edge *edges;
    Py_ssize_t nedges, edge_capacity;
    int32_t last, visit;
    long long walks;
    double duplicate_distance, area_weight;
    char all_dirty;
    PyObject *index;
    PyObject *orient2, *in_circle, *fsum, *sum;
} Mesh2D;

/* ---- small helpers ------------------------------------------------------------------------ */
static int push(IntList *list, int32_t item)
{
    if (grow_array((void **)&list->items, &list->capacity, list->size + 1, sizeof(int32_t)) < 0) {
        return -1;
    }
    list->items[list->size++] = item;
    return 0;
}

static int alive(const Mesh2D *self, Py_ssize_t t)
{
    return t >= 0 && t < self->nslots && self->triangles[t].v[0] >= 0;
}

static PyObject *pair(double x, double y)
{
    double numbers[2] = {x, y};
    return number_tuple(2, numbers, NULL);
}

/* ValueError with the point (x, y) in the message; returns -1 */
static int point_error(const char *format, double x, double y)
{
    PyObject *point = pair(x, y);
    if (point != NULL) {
        PyErr_Format(PyExc_ValueError, format, point);
        Py_DECREF(point);
    }
    return -1;
}

static PyObject *triangle_tuple(const Triangle *tr)
{
    return untracked(Py_BuildValue("(iii)", tr->v[0], tr->v[1], tr->v[2]));
}

/* learner2D._perturbed: the point moved by about PERTURBATION, a function of its coordinates */
static int perturb(PyObject *point, double x, double y, double *px, double *py)
{
    int on_x = x == 0.0 || x == 1.0, on_y = y == 0.0 || y == 1.0;
    if (on_x && on_y) {
        *px = x;
        *py = y;
        return 0;
    }
    Py_hash_t hash = PyObject_Hash(point);
    if (hash == -1 && PyErr_Occurred()) {
        return -1;
    }
    uint64_t h = (uint64_t)hash & 0xFFFFFFFFu;
    double dx = on_x ? 0.0 : PERTURBATION * (0.5 + (double)(h & 0x7FFF) / 65534.0);
    double dy = on_y ? 0.0 : PERTURBATION * (0.5 + (double)((h >> 15) & 0x7FFF) / 65534.0);
    if (h & 0x40000000u) {
        dx = -dx;
    }
    if (h & 0x80000000u) {
        dy = -dy;
    }
    double qx = x + dx, qy = y + dy;
    if (!(0.0 < qx && qx < 1.0)) {
        qx = x - dx;
    }
    if (!(0.0 < qy && qy < 1.0)) {
        qy = y - dy;
    }
    *px = qx;
    *py = qy;
    return 0;
}

/* ---- exact predicates ------------------------------------------------------------------------ */
/* the sign of the orientation of (a, b, c): floating point when certain, else the exact
 * Python predicate; -2 on error */
static int orient(Mesh2D *self, double ax, double ay, double bx, double by, double cx,
                  double cy)
{
    double left = (bx - ax) * (cy - ay), right = (by - ay) * (cx - ax);
    double det = left - right;
    if (fabs(det) > ORIENT2_BOUND * (fabs(left) + fabs(right))) {
        return det > 0 ? 1 : -1;
    }
    PyObject *a = pair(ax, ay), *b = pair(bx, by), *c = pair(cx, cy), *answer = NULL;
    if (a != NULL && b != NULL && c != NULL) {
        answer = PyObject_CallFunctionObjArgs(self->orient2, a, b, c, NULL);
    }
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    if (answer == NULL) {
        return -2;
    }
    long sign = PyLong_AsLong(answer);
    Py_DECREF(answer);
    if (sign == -1 && PyErr_Occurred()) {
        return -2;
    }
    return sign > 0 ? 1 : (sign < 0 ? -1 : 0);
}

/* whether (px, py) is inside the circumcircle of t: 1, 0, or -1 on error */
static int conflict(Mesh2D *self, int32_t t, double px, double py)
{
    const Triangle *tr = &self->triangles[t];
    double distance2 = pow(px - tr->cx, 2.0) + pow(py - tr->cy, 2.0);
    if (distance2 < tr->low) {
        return 1;
    }
    if (distance2 > tr->high) {
        return 0;
    }
    PyObject *corners = PyTuple_New(3), *point = pair(px, py), *answer = NULL;
    if (corners != NULL && point != NULL) {
        int ok = 1;
        for (int k = 0; k < 3 && ok; k++) {
            const Vertex *vx = &self->vertices[tr->v[k]];
            PyObject *corner = pair(vx->px, vx->py);
            ok = corner != NULL;
            if (ok) {
                PyTuple_SET_ITEM(corners, k, corner);
            }
        }
        if (ok) {
            answer = PyObject_CallFunctionObjArgs(self->in_circle, corners, point, NULL);
        }
    }
    Py_XDECREF(corners);
    Py_XDECREF(point);
    if (answer == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return truth;
}

/* the smallest barycentric coordinate of (px, py) in t, computed as _barycentric_2d does
 * (-inf for a flat triangle, which contains nothing) */
static double smallest_barycentric(const Mesh2D *self, int32_t t, double px, double py)
{
    const Triangle *tr = &self->triangles[t];
    const Vertex *a = &self->vertices[tr->v[0]], *b = &self->vertices[tr->v[1]];
    const Vertex *c = &self->vertices[tr->v[2]];
    double det = (b->px - a->px) * (c->py - a->py) - (b->py - a->py) * (c->px - a->px);
    if (det == 0.0) {
        return -Py_HUGE_VAL;
    }
    double dx = px - a->px, dy = py - a->py;
    double l1 = (dx * (c->py - a->py) - dy * (c->px - a->px)) / det;
    double l2 = ((b->px - a->px) * dy - (b->py - a->py) * dx) / det;
    double l0 = 1.0 - l1 - l2;
    double smallest = l0 < l1 ? l0 : l1;
    return smallest < l2 ? smallest : l2;
}

/* Triangulation.point_in_simplex in 2D: every barycentric coordinate is at least -eps */
static int contains(const Mesh2D *self, int32_t t, double px, double py, double eps)
{
    return smallest_barycentric(self, t, px, py) >= -eps;
}

/* ---- locating a point (Triangulation.locate_point and _near_hint) ------------------------- */
/* a triangle containing (px, py), or -1 when it is outside; -2 on error */
static int32_t locate(Mesh2D *self, double px, double py, int32_t start)
{
    if (!alive(self, start)) {
        start = self->last;
        if (!alive(self, start)) {
            for (start = 0; start < self->nslots && !alive(self, start); start++) {
            }
        }
    }
    int32_t t = start;
    Py_ssize_t steps = 4 * self->alive + 100;
    for (Py_ssize_t step = 0; step < steps; step++) {
        const Triangle *tr = &self->triangles[t];
        double xs[3], ys[3];
        for (int k = 0; k < 3; k++) {
            xs[k] = self->vertices[tr->v[k]].px;
            ys[k] = self->vertices[tr->v[k]].py;
        }
        self->walks++;
        int first = (int)(self->walks % 3), crossing = -1;
        for (int k = 0; k < 3; k++) {
            int i = (first + k) % 3;
            double ax = i == 0 ? px : xs[0], ay = i == 0 ? py : ys[0];
            double bx = i == 1 ? px : xs[1], by = i == 1 ? py : ys[1];
            double cx = i == 2 ? px : xs[2], cy = i == 2 ? py : ys[2];
            int sign = orient(self, ax, ay, bx, by, cx, cy);
            if (sign == -2) {
                return -2;
            }
            if (sign * tr->sign < 0) {
                crossing = i;
                break;
            }
        }
        if (crossing < 0) {
            return t;
        }
        if (tr->nb[crossing] < 0) {
            break;
        }
        t = tr->nb[crossing];
    }
    if (contains(self, t, px, py, 1e-8)) {
        return t;
    }
    /* outside, or lost near the hull: the hull triangle the point is least outside of */
    int32_t best = -1;
    double best_value = -Py_HUGE_VAL;
    for (int32_t s = 0; s < self->nslots; s++) {
        const Triangle *tr = &self->triangles[s];
        if (tr->v[0] < 0 || (tr->nb[0] >= 0 && tr->nb[1] >= 0 && tr->nb[2] >= 0)) {
            continue;
        }
        double value = smallest_barycentric(self, s, px, py);
        if (best < 0 || value > best_value) {
            best = s;
            best_value = value;
        }
    }
    return best >= 0 && contains(self, best, px, py, 1e-8) ? best : -1;
}

static int32_t near_hint(Mesh2D *self, double px, double py, int32_t hint)
{
    if (alive(self, hint)) {
        for (int k = 0; k < 3; k++) {
            int32_t other = self->triangles[hint].nb[k];
            if (other >= 0 && contains(self, other, px, py, 1e-12)) {
                return other;
            }
        }
    }
    return locate(self, px, py, hint);
}

/* ---- the loss heap -------------------------------------------------------------------------- */
/* Python's order of the entry tuples (keys, then the triangle's vertices) */
static int entry_less(const Mesh2D *self, const HeapItem *p, const HeapItem *q)
{
    if (p->first != q->first) {
        return p->first < q->first;
    }
    const Triangle *a = &self->triangles[p->t], *b = &self->triangles[q->t];
    int n = a->nkey < b->nkey ? a->nkey : b->nkey;
    for (int k = 0; k < n; k++) {
        if (a->key[k] != b->key[k]) {
            return a->key[k] < b->key[k];
        }
    }
    if (a->nkey != b->nkey) {
        return a->nkey < b->nkey;
    }
    for (int k = 0; k < 3; k++) {
        if (a->v[k] != b->v[k]) {
            return a->v[k] < b->v[k];
        }
    }
    return 0;
}

static void heap_place(Mesh2D *self, Py_ssize_t position, HeapItem item)
{
    self->heap[position] = item;
    self->triangles[item.t].heap = (int32_t)position;
}

static void sift_up(Mesh2D *self, Py_ssize_t position)
{
    HeapItem item = self->heap[position];
    while (position > 0) {
        Py_ssize_t parent = (position - 1) >> 1;
        if (!entry_less(self, &item, &self->heap[parent])) {
            break;
        }
        heap_place(self, position, self->heap[parent]);
        position = parent;
    }
    heap_place(self, position, item);
}

static void sift_down(Mesh2D *self, Py_ssize_t position)
{
    HeapItem item = self->heap[position];
    for (;;) {
        Py_ssize_t child = 2 * position + 1;
        if (child >= self->heap_size) {
            break;
        }
        if (child + 1 < self->heap_size
            && entry_less(self, &self->heap[child + 1], &self->heap[child])) {
            child++;
        }
        if (!entry_less(self, &self->heap[child], &item)) {
            break;
        }
        heap_place(self, position, self->heap[child]);
        position = child;
    }
    heap_place(self, position, item);
}

static void heap_remove(Mesh2D *self, int32_t t)
{
    Py_ssize_t position = self->triangles[t].heap;
    if (position < 0) {
        return;
    }
    self->triangles[t].heap = -1;
    HeapItem moved = self->heap[--self->heap_size];
    if (position == self->heap_size) {
        return;
    }
    heap_place(self, position, moved);
    sift_up(self, position);
    sift_down(self, self->triangles[moved.t].heap);
}

/* the entry of t changed (its key is in the triangle): put it where it belongs */
static int heap_update(Mesh2D *self, int32_t t)
{
    Triangle *tr = &self->triangles[t];
    HeapItem item = {tr->key[0], t};
    if (tr->heap < 0) {
        if (grow_array((void **)&self->heap, &self->heap_capacity, self->heap_size + 1,
                       sizeof(HeapItem)) < 0) {
            return -1;
        }
        heap_place(self, self->heap_size++, item);
        sift_up(self, self->heap_size - 1);
        return 0;
    }
    Py_ssize_t position = tr->heap;
    self->heap[position].first = item.first;
    sift_up(self, position);
    sift_down(self, self->triangles[t].heap);
    return 0;
}

/* ---- planes, gradients, losses (as _Mesh._plane, _gradient and _entry) ---------------------- */
/* the vertices of t in coordinate order (Python's tuple order of the scaled points) */
static void canonical(const Mesh2D *self, const Triangle *tr, const Vertex *out[3],
                      int32_t index[3])
{
    const Vertex *vs = self->vertices;
    int32_t a = tr->v[0], b = tr->v[1], c = tr->v[2], swap;
#define VERTEX_LESS(i, j) (vs[i].x != vs[j].x ? vs[i].x < vs[j].x : vs[i].y < vs[j].y)
    if (VERTEX_LESS(b, a)) {
        swap = a; a = b; b = swap;
    }
    if (VERTEX_LESS(c, b)) {
        swap = b; b = c; c = swap;
        if (VERTEX_LESS(b, a)) {
            swap = a; a = b; b = swap;
        }
    }
#undef VERTEX_LESS
    index[0] = a;
    index[1] = b;
    index[2] = c;
    out[0] = &vs[a];
    out[1] = &vs[b];
    out[2] = &vs[c];
}

static void compute_plane(Mesh2D *self, Triangle *tr)
{
    const Vertex *p[3];
    int32_t index[3];
    tr->has_plane = 0;
    for (int k = 0; k < 3; k++) {
        if (self->vertices[tr->v[k]].state != FINITE) {
            return;
        }
    }
    canonical(self, tr, p, index);
    double d1x = p[1]->x - p[0]->x, d1y = p[1]->y - p[0]->y;
    double d2x = p[2]->x - p[0]->x, d2y = p[2]->y - p[0]->y;
    double det = d1x * d2y - d1y * d2x;
    if (det == 0.0) {
        return;
    }
    double half = det > 0 ? 0.5 : -0.5;
    double va = p[0]->value, vb = p[1]->value, vc = p[2]->value;
    tr->wx = ((vb - va) * d2y - (vc - va) * d1y) * half;
    tr->wy = ((vc - va) * d1x - (vb - va) * d2x) * half;
    tr->area = half * det;
    tr->has_plane = 1;
}

/* the triangles around vertex v, into ``out`` (cleared first) */
static int star(Mesh2D *self, int32_t v, IntList *out)
{
    out->size = 0;
    int32_t first = self->vertices[v].triangle;
    if (!alive(self, first)) {
        return 0;
    }
    for (int direction = 1; direction <= 2; direction++) {
        int32_t previous = -1, t = first;
        if (direction == 1 && push(out, first) < 0) {
            return -1;
        }
        for (;;) {
            const Triangle *tr = &self->triangles[t];
            int j = tr->v[0] == v ? 0 : (tr->v[1] == v ? 1 : 2);
            int32_t next;
            if (previous < 0) {
                next = tr->nb[(j + direction) % 3];
            }
            else {
                next = tr->nb[(j + 1) % 3];
                if (next == previous) {
                    next = tr->nb[(j + 2) % 3];
                }
            }
            if (next < 0) {
                break; /* the hull: go round the other way */
            }
            if (next == first) {
                return 0; /* all the way round */
            }
            if (push(out, next) < 0) {
                return -1;
            }
            previous = t;
            t = next;
        }
    }
    return 0;
}

/* function(list of the n doubles), a Python sum (math.fsum or sum) -> *result */
static int python_sum(PyObject *function, const double *values, Py_ssize_t n, double *result)
{
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *number = PyFloat_FromDouble(values[k]);
        if (number == NULL) {
            Py_DECREF(list);
            return -1;
        }
        PyList_SET_ITEM(list, k, number);
    }
    PyObject *sum = PyObject_CallOneArg(function, list);
    Py_DECREF(list);
    if (sum == NULL) {
        return -1;
    }
    *result = PyFloat_AsDouble(sum);
    Py_DECREF(sum);
    return PyErr_Occurred() ? -1 : 0;
}

static int compute_gradient(Mesh2D *self, int32_t v)
{
    Vertex *vertex = &self->vertices[v];
    vertex->has_gradient = 0;
    if (star(self, v, &self->extra) < 0) {
        return -1;
    }
    Py_ssize_t size = self->extra.size, count = 0;
    double buffer[3 * 32];
    double *numbers = size <= 32 ? buffer : PyMem_Malloc(3 * size * sizeof(double));
    if (numbers == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    double *wxs = numbers, *wys = numbers + size, *areas = numbers + 2 * size;
    for (Py_ssize_t k = 0; k < size; k++) {
        const Triangle *tr = &self->triangles[self->extra.items[k]];
        if (tr->has_plane) {
            wxs[count] = tr->wx;
            wys[count] = tr->wy;
            areas[count] = tr->area;
            count++;
        }
    }
    int failed = 0;
    if (count > 0) {
        double total, sx, sy;
        if (exact_sum(areas, count, &total) < 0) {
            failed = python_sum(self->fsum, areas, count, &total) < 0;
        }
        if (!failed && exact_sum(wxs, count, &sx) < 0) {
            failed = python_sum(self->fsum, wxs, count, &sx) < 0;
        }
        if (!failed && exact_sum(wys, count, &sy) < 0) {
            failed = python_sum(self->fsum, wys, count, &sy) < 0;
        }
        if (!failed) {
            if (total == 0.0) {
                PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
                failed = 1;
            }
            else {
                vertex->gx = sx / total;
                vertex->gy = sy / total;
                vertex->has_gradient = 1;
            }
        }
    }
    if (numbers != buffer) {
        PyMem_Free(numbers);
    }
    return failed ? -1 : 0;
}

static void set_key(Triangle *tr, int nkey, double k0, double k1, double k2, double k3,
                    double k4)
{
    tr->nkey = (int8_t)nkey;
    tr->key[0] = k0;
    tr->key[1] = k1;
    tr->key[2] = k2;
    tr->key[3] = k3;
    tr->key[4] = k4;
}

/* the loss entry of t, as _Mesh._entry computes it for the default loss and scalar values */
static int compute_entry(Mesh2D *self, Triangle *tr, double y_scale)
{
    const Vertex *p[3];
    int32_t index[3];
    canonical(self, tr, p, index);
    double det = (p[1]->x - p[0]->x) * (p[2]->y - p[0]->y)
                 - (p[1]->y - p[0]->y) * (p[2]->x - p[0]->x);
    double area = 0.5 * fabs(det);
    double sx = p[0]->x + p[1]->x + p[2]->x, sy = p[0]->y + p[1]->y + p[2]->y;
    if (p[0]->state == UNKNOWN || p[1]->state == UNKNOWN || p[2]->state == UNKNOWN) {
        set_key(tr, 5, -Py_HUGE_VAL, -area, sx, sy, Py_HUGE_VAL);
        return 0;
    }
    double abx = p[1]->x - p[0]->x, aby = p[1]->y - p[0]->y;
    double acx = p[2]->x - p[0]->x, acy = p[2]->y - p[0]->y;
    double bcx = p[2]->x - p[1]->x, bcy = p[2]->y - p[1]->y;
    double va = p[0]->value, vb = p[1]->value, vc = p[2]->value;
    double dab = vb - va, dac = vc - va, dbc = vc - vb;
    int nonfinite = p[0]->state == NONFINITE || p[1]->state == NONFINITE
                    || p[2]->state == NONFINITE;
    double loss;
    if (!nonfinite && p[0]->has_gradient && p[1]->has_gradient && p[2]->has_gradient) {
        /* the common case (no check for an infinite loss, as in the Python code) */
        double ga0 = p[0]->gx, ga1 = p[0]->gy, gb0 = p[1]->gx, gb1 = p[1]->gy;
        double gc0 = p[2]->gx, gc1 = p[2]->gy;
        double deviation = fabs(dab - ga0 * abx - ga1 * aby);
        deviation = deviation + fabs(dac - ga0 * acx - ga1 * acy);
        deviation = deviation + fabs(dab - gb0 * abx - gb1 * aby);
        deviation = deviation + fabs(dbc - gb0 * bcx - gb1 * bcy);
        deviation = deviation + fabs(dac - gc0 * acx - gc1 * acy);
        deviation = deviation + fabs(dbc - gc0 * bcx - gc1 * bcy);
        deviation = deviation / y_scale;
        loss = deviation * sqrt(area) + self->area_weight * area;
        set_key(tr, 4, -loss, sx, sy, loss, 0.0);
        return 0;
    }
    double deviation = 0.0;
    if (!nonfinite) {
        /* the errors of the gradients that exist, summed by Python's sum() */
        double errors[6];
        Py_ssize_t n = 0;
        if (p[0]->has_gradient) {
            errors[n++] = fabs(dab - p[0]->gx * abx - p[0]->gy * aby);
            errors[n++] = fabs(dac - p[0]->gx * acx - p[0]->gy * acy);
        }
        if (p[1]->has_gradient) {
            errors[n++] = fabs(dab - p[1]->gx * abx - p[1]->gy * aby);
            errors[n++] = fabs(dbc - p[1]->gx * bcx - p[1]->gy * bcy);
        }
        if (p[2]->has_gradient) {
            errors[n++] = fabs(dac - p[2]->gx * acx - p[2]->gy * acy);
            errors[n++] = fabs(dbc - p[2]->gx * bcx - p[2]->gy * bcy);
        }
        if (n > 0) { /* Python's sum(): its algorithm differs between Python versions */
            if (python_sum(self->sum, errors, n, &deviation) < 0) {
                return -1;
            }
            deviation = deviation / y_scale;
        }
    }
    loss = deviation * sqrt(area) + self->area_weight * area;
    if (!(loss < Py_HUGE_VAL)) {
        if (isnan(loss)) { /* sampled like a flat region */
            double flat = self->area_weight * area;
            set_key(tr, 4, -flat, sx, sy, flat, 0.0);
        }
        else {
            set_key(tr, 5, -Py_HUGE_VAL, -area, sx, sy, Py_HUGE_VAL);
        }
        return 0;
    }
    set_key(tr, 4, -loss, sx, sy, loss, 0.0);
    return 0;
}

/* ---- marking changes ------------------------------------------------------------------------ */
static int mark_plane(Mesh2D *self, int32_t t)
{
    Triangle *tr = &self->triangles[t];
    if (tr->plane_dirty) {
        return 0;
    }
    tr->plane_dirty = 1;
    return push(&self->dirty_planes, t);
}

static int mark_vertex(Mesh2D *self, int32_t v)
{
    if (self->vertices[v].dirty) {
        return 0;
    }
    self->vertices[v].dirty = 1;
    return push(&self->dirty_vertices, v);
}

static void clear_marks(Mesh2D *self)
{
    for (Py_ssize_t k = 0; k < self->dirty_planes.size; k++) {
        int32_t t = self->dirty_planes.items[k];
        if (t < self->nslots) {
            self->triangles[t].plane_dirty = 0;
        }
    }
    for (Py_ssize_t k = 0; k < self->dirty_vertices.size; k++) {
        self->vertices[self->dirty_vertices.items[k]].dirty = 0;
    }
    self->dirty_planes.size = 0;
    self->dirty_vertices.size = 0;
}

/* _Mesh.flush: recompute what changed (everything when all_dirty) */
static int flush(Mesh2D *self, double y_scale)
{
    if (self->all_dirty) {
        for (int32_t t = 0; t < self->nslots; t++) {
            if (self->triangles[t].v[0] >= 0) {
                compute_plane(self, &self->triangles[t]);
            }
        }
        for (int32_t v = 0; v < self->nvertices; v++) {
            if (compute_gradient(self, v) < 0) {
                return -1;
            }
        }
        for (Py_ssize_t k = 0; k < self->heap_size; k++) {
            self->triangles[self->heap[k].t].heap = -1;
        }
        self->heap_size = 0;
        for (int32_t t = 0; t < self->nslots; t++) {
            Triangle *tr = &self->triangles[t];
            if (tr->v[0] < 0 || tr->unsplittable) {
                continue;
            }
            if (compute_entry(self, tr, y_scale) < 0 || heap_update(self, t) < 0) {
                return -1;
            }
        }
        clear_marks(self);
        self->all_dirty = 0;
        return 0;
    }
    if (self->dirty_vertices.size > 0) {
        for (Py_ssize_t k = 0; k < self->dirty_planes.size; k++) {
            int32_t t = self->dirty_planes.items[k];
            Triangle *tr = &self->triangles[t];
            if (t < self->nslots && tr->v[0] >= 0 && tr->plane_dirty) {
                compute_plane(self, tr);
                tr->plane_dirty = 0;
            }
        }
        self->changed.size = 0;
        for (Py_ssize_t k = 0; k < self->dirty_vertices.size; k++) {
            int32_t v = self->dirty_vertices.items[k];
            self->vertices[v].dirty = 0;
            if (compute_gradient(self, v) < 0) {
                return -1;
            }
            for (Py_ssize_t j = 0; j < self->extra.size; j++) { /* the star, from above */
                int32_t t = self->extra.items[j];
                if (!self->triangles[t].loss_dirty) {
                    self->triangles[t].loss_dirty = 1;
                    if (push(&self->changed, t) < 0) {
                        return -1;
                    }
                }
            }
        }
        self->dirty_vertices.size = 0;
        for (Py_ssize_t k = 0; k < self->changed.size; k++) {
            int32_t t = self->changed.items[k];
            Triangle *tr = &self->triangles[t];
            tr->loss_dirty = 0;
            if (tr->unsplittable) {
                continue;
            }
            if (compute_entry(self, tr, y_scale) < 0 || heap_update(self, t) < 0) {
                return -1;
            }
        }
        self->changed.size = 0;
    }
    clear_marks(self);
    return 0;
}

/* ---- insertion ------------------------------------------------------------------------------ */
static int32_t new_slot(Mesh2D *self)
{
    int32_t t;
    if (self->free_slots.size > 0) {
        t = self->free_slots.items[--self->free_slots.size];
    }
    else {
        if (self->nslots >= INT32_MAX
            || grow_array((void **)&self->triangles, &self->slot_capacity, self->nslots + 1,
                          sizeof(Triangle)) < 0) {
            if (!PyErr_Occurred()) {
                PyErr_NoMemory();
            }
            return -1;
        }
        t = (int32_t)self->nslots++;
    }
    Triangle *tr = &self->triangles[t];
    memset(tr, 0, sizeof(Triangle));
    tr->heap = -1;
    tr->visit = -1;
    self->alive++;
    return t;
}

/* the circumcircle record of t, as Triangulation stores it (_circumsphere2 and the band) */
static void set_circle(Mesh2D *self, Triangle *tr)
{
    const Vertex *a = &self->vertices[tr->v[0]], *b = &self->vertices[tr->v[1]];
    const Vertex *c = &self->vertices[tr->v[2]];
    double ax = a->px, ay = a->py;
    double bx = b->px - ax, by = b->py - ay, cx = c->px - ax, cy = c->py - ay;
    double d = 2.0 * (bx * cy - by * cx);
    if (d == 0.0) {
        tr->cx = tr->cy = tr->low = tr->high = Py_HUGE_VAL;
        return;
    }
    double b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
    double ux = (cy * b2 - by * c2) / d;
    double uy = (bx * c2 - cx * b2) / d;
    double radius2 = ux * ux + uy * uy;
    tr->cx = ax + ux;
    tr->cy = ay + uy;
    tr->low = radius2 * (1.0 - INSPHERE_BAND);
    tr->high = radius2 * (1.0 + INSPHERE_BAND);
}

static int add_edge(Mesh2D *self, Edge edge)
{
    if (grow_array((void **)&self->edges, &self->edge_capacity, self->nedges + 1,
                   sizeof(Edge)) < 0) {
        return -1;
    }
    self->edges[self->nedges++] = edge;
    return 0;
}

/* grow the cavity from the triangles on the stack: every neighbour whose circumcircle holds
 * the point joins (Triangulation._grow_cavity) */
static int grow_mesh_cavity(Mesh2D *self, double px, double py)
{
    while (self->stack.size > 0) {
        int32_t t = self->stack.items[--self->stack.size];
        for (int k = 0; k < 3; k++) {
            int32_t other = self->triangles[t].nb[k];
            if (other < 0 || self->triangles[other].visit == self->visit) {
                continue;
            }
            int inside = conflict(self, other, px, py);
            if (inside < 0) {
                return -1;
            }
            if (inside) {
                self->triangles[other].visit = self->visit;
                if (push(&self->cavity, other) < 0 || push(&self->stack, other) < 0) {
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* whether (px, py) lies within rounding distance of the line through u and v
 * (Triangulation._near_plane) */
static int near_line(const Vertex *u, const Vertex *v, double px, double py)
{
    double ex = v->px - u->px, ey = v->py - u->py;
    double length = hypot(ex, ey);
    double distance = fabs(ex * (py - u->py) - ey * (px - u->px)) / (length > 0 ? length : 1.0);
    return distance <= 1e-10 * (length > 1e-300 ? length : 1e-300);
}

/* the cone of the cavity: every boundary edge the point sees strictly from inside; the
 * triangles beyond the others join the cavity and it grows again (Triangulation._recone) */
static int cone_edges(Mesh2D *self, double px, double py)
{
    for (;;) {
        self->nedges = 0;
        self->extra.size = 0;
        for (Py_ssize_t n = 0; n < self->cavity.size; n++) {
            int32_t t = self->cavity.items[n];
            const Triangle *tr = &self->triangles[t];
            for (int k = 0; k < 3; k++) {
                int32_t other = tr->nb[k];
                if (other >= 0 && self->triangles[other].visit == self->visit) {
                    continue;
                }
                int32_t u = tr->v[k == 0 ? 1 : 0], v = tr->v[k == 2 ? 1 : 2], w = tr->v[k];
                const Vertex *U = &self->vertices[u], *V = &self->vertices[v];
                const Vertex *W = &self->vertices[w];
                int inside = orient(self, U->px, U->py, V->px, V->py, W->px, W->py);
                int seen = orient(self, U->px, U->py, V->px, V->py, px, py);
                if (inside == -2 || seen == -2) {
                    return -1;
                }
                if (seen == inside && seen != 0) {
                    Edge edge = {t, u, v, w, other, seen};
                    if (add_edge(self, edge) < 0) {
                        return -1;
                    }
                }
                else if (other >= 0) {
                    if (push(&self->extra, other) < 0) {
                        return -1;
                    }
                }
                else if (seen != 0 && !near_line(U, V, px, py)) {
                    return point_error("the point %R lies outside the convex hull", px, py);
                }
                /* else: the point lies on a hull edge, no flat triangle is made */
            }
        }
        if (self->extra.size == 0) {
            return 0;
        }
        for (Py_ssize_t n = 0; n < self->extra.size; n++) {
            int32_t other = self->extra.items[n];
            if (self->triangles[other].visit != self->visit) {
                self->triangles[other].visit = self->visit;
                if (push(&self->cavity, other) < 0 || push(&self->stack, other) < 0) {
                    return -1;
                }
            }
        }
        if (grow_mesh_cavity(self, px, py) < 0) {
            return -1;
        }
    }
}

static void free_triangle(Mesh2D *self, int32_t t)
{
    heap_remove(self, t);
    Triangle *tr = &self->triangles[t];
    tr->v[0] = tr->v[1] = tr->v[2] = -1;
    tr->plane_dirty = tr->loss_dirty = tr->unsplittable = tr->has_plane = 0;
    self->alive--;
    /* the free list never needs more room than the slots (grown with them) */
    push(&self->free_slots, t);
}

/* Insert the vertex (x, y) (perturbed to (px, py)) with its value; its index, or -1 with
 * ValueError when the triangulation cannot take it (outside, or a near duplicate). */
static Py_ssize_t insert_vertex(Mesh2D *self, double x, double y, double px, double py,
                                int state, double value, int32_t hint)
{
    int32_t start = -1;
    if (alive(self, hint) && contains(self, hint, px, py, 1e-12)) {
        start = hint;
    }
    else {
        start = near_hint(self, px, py, hint);
        if (start == -2) {
            return -1;
        }
        if (start < 0) {
            PyErr_SetString(PyExc_ValueError,
                            "the point lies outside the convex hull of the triangulation");
            return -1;
        }
    }
    for (int k = 0; k < 3; k++) {
        const Vertex *vertex = &self->vertices[self->triangles[start].v[k]];
        if (hypot(vertex->px - px, vertex->py - py) <= self->duplicate_distance) {
            return point_error("the point coincides with the vertex %R of the triangulation",
                               vertex->px, vertex->py);
        }
    }
    if (self->nvertices >= INT32_MAX
        || grow_array((void **)&self->vertices, &self->vertex_capacity, self->nvertices + 1,
                      sizeof(Vertex)) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    /* the cavity, and the edges of its cone (nothing is changed until they are known) */
    self->visit++;
    self->cavity.size = 0;
    self->stack.size = 0;
    self->triangles[start].visit = self->visit;
    if (push(&self->cavity, start) < 0 || push(&self->stack, start) < 0
        || grow_mesh_cavity(self, px, py) < 0 || cone_edges(self, px, py) < 0) {
        return -1;
    }
    /* room for the new triangles, so nothing below fails half way */
    if (grow_array((void **)&self->triangles, &self->slot_capacity,
                   self->nslots + self->nedges, sizeof(Triangle)) < 0
        || grow_array((void **)&self->free_slots.items, &self->free_slots.capacity,
                      self->nslots + self->nedges + self->cavity.size, sizeof(int32_t)) < 0
        || grow_array((void **)&self->dirty_planes.items, &self->dirty_planes.capacity,
                      self->dirty_planes.size + self->nedges, sizeof(int32_t)) < 0
        || grow_array((void **)&self->dirty_vertices.items, &self->dirty_vertices.capacity,
                      self->dirty_vertices.size + 2 * self->nedges + 1, sizeof(int32_t)) < 0) {
        return -1;
    }
    int32_t index = (int32_t)self->nvertices++;
    Vertex *vertex = &self->vertices[index];
    memset(vertex, 0, sizeof(Vertex));
    vertex->x = x;
    vertex->y = y;
    vertex->px = px;
    vertex->py = py;
    vertex->value = value;
    vertex->state = (int8_t)state;
    vertex->triangle = -1;
    for (Py_ssize_t n = 0; n < self->cavity.size; n++) {
        free_triangle(self, self->cavity.items[n]);
    }
    int32_t created = -1;
    for (Py_ssize_t n = 0; n < self->nedges; n++) {
        Edge *edge = &self->edges[n];
        created = new_slot(self);
        Triangle *tr = &self->triangles[created];
        tr->v[0] = edge->u;
        tr->v[1] = edge->v;
        tr->v[2] = index;
        tr->nb[0] = tr->nb[1] = -1;
        tr->nb[2] = edge->outside;
        tr->sign = (int8_t)edge->sign;
        set_circle(self, tr);
        if (edge->outside >= 0) { /* the outside triangle now borders the new one */
            Triangle *out = &self->triangles[edge->outside];
            for (int k = 0; k < 3; k++) {
                if (out->v[k] != edge->u && out->v[k] != edge->v) {
                    out->nb[k] = created;
                }
            }
        }
        edge->t = created; /* from here on: the new triangle of this edge */
        self->vertices[edge->u].triangle = created;
        self->vertices[edge->v].triangle = created;
        mark_plane(self, created);
        mark_vertex(self, edge->u);
        mark_vertex(self, edge->v);
    }
    /* new triangles sharing the edge (u, new vertex) are neighbours */
    for (Py_ssize_t n = 0; n < self->nedges; n++) {
        Edge *edge = &self->edges[n];
        for (Py_ssize_t m = n + 1; m < self->nedges; m++) {
            Edge *other = &self->edges[m];
            /* in a new triangle (u, v, p), the edge (u, p) is opposite v (nb[1]) and the
             * edge (v, p) opposite u (nb[0]) */
            for (int side = 0; side < 2; side++) {
                int32_t shared = side == 0 ? edge->u : edge->v;
                int mine = side == 0 ? 1 : 0;
                if (other->u == shared) {
                    self->triangles[edge->t].nb[mine] = other->t;
                    self->triangles[other->t].nb[1] = edge->t;
                }
                else if (other->v == shared) {
                    self->triangles[edge->t].nb[mine] = other->t;
                    self->triangles[other->t].nb[0] = edge->t;
                }
            }
        }
    }
    if (created >= 0) {
        vertex->triangle = created;
        self->last = created;
    }
    mark_vertex(self, index);
    return index;
}

/* ---- the Python type -------------------------------------------------------------------- */
static int parse_value(PyObject *value, int *state, double *number)
{
    if (value == Py_None) {
        *state = UNKNOWN;
        *number = 0.0;
        return 0;
    }
    if (!PyFloat_Check(value)) {
        PyErr_Format(PyExc_TypeError, "Mesh2D values are floats or None, got %R", value);
        return -1;
    }
    *number = PyFloat_AS_DOUBLE(value);
    *state = isfinite(*number) ? FINITE : NONFINITE;
    return 0;
}

static int parse_triangle(Mesh2D *self, PyObject *handle, int32_t *t, int allow_none)
{
    if (allow_none && handle == Py_None) {
        *t = -1;
        return 0;
    }
    Py_ssize_t value = PyLong_AsSsize_t(handle);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (!alive(self, value)) {
        PyErr_Format(PyExc_ValueError, "%R is not a triangle of the mesh", handle);
        return -1;
    }
    *t = (int32_t)value;
    return 0;
}

static int parse_point(PyObject *point, double *x, double *y)
{
    if (point_xy(point, x, y) < 0) {
        return -1;
    }
    if (!isfinite(*x) || !isfinite(*y)) {
        PyErr_Format(PyExc_ValueError, "the point %R has non-finite coordinates", point);
        return -1;
    }
    return 0;
}

/* Mesh2D(keys, points, triangles, circles, last, walks, duplicate_distance, area_weight,
 *        orient2, in_circumsphere_exact, fsum, sum) */
static PyObject *Mesh2D_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *keys, *points, *triangles, *circles, *orient2, *in_circle, *fsum, *sum;
    int last;
    long long walks;
    double duplicate_distance, area_weight;
    static char *names[] = {"keys", "points", "triangles", "circles", "last", "walks",
                            "duplicate_distance", "area_weight", "orient2", "in_circle",
                            "fsum", "sum", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!O!iLddOOOO:Mesh2D", names,
                                     &PyList_Type, &keys, &PyList_Type, &points, &PyList_Type,
                                     &triangles, &PyList_Type, &circles, &last, &walks,
                                     &duplicate_distance, &area_weight, &orient2, &in_circle,
                                     &fsum, &sum)) {
        return NULL;
    }
    Py_ssize_t npoints = PyList_GET_SIZE(points), ntriangles = PyList_GET_SIZE(triangles);
    if (PyList_GET_SIZE(keys) != npoints || PyList_GET_SIZE(circles) != ntriangles
        || ntriangles == 0 || last < 0 || last >= ntriangles) {
        PyErr_SetString(PyExc_ValueError,
                        "Mesh2D needs one key per point, one circle per triangle and a last "
                        "triangle among them");
        return NULL;
    }
    Mesh2D *self = (Mesh2D *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->last = last;
    self->walks = walks;
    self->duplicate_distance = duplicate_distance;
    self->area_weight = area_weight;
    self->all_dirty = 1;
    self->orient2 = Py_NewRef(orient2);
    self->in_circle = Py_NewRef(in_circle);
    self->fsum = Py_NewRef(fsum);
    self->sum = Py_NewRef(sum);
    self->index = PyDict_New();
    if (self->index == NULL
        || grow_array((void **)&self->vertices, &self->vertex_capacity, npoints,
                      sizeof(Vertex)) < 0
        || grow_array((void **)&self->triangles, &self->slot_capacity, ntriangles,
                      sizeof(Triangle)) < 0) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < npoints; i++) {
        Vertex *vertex = &self->vertices[i];
        memset(vertex, 0, sizeof(Vertex));
        vertex->triangle = -1;
        PyObject *number = PyLong_FromSsize_t(i);
        int failed = number == NULL
                     || PyDict_SetItem(self->index, PyList_GET_ITEM(keys, i), number) < 0
                     || parse_point(PyList_GET_ITEM(points, i), &vertex->x, &vertex->y) < 0;
        Py_XDECREF(number);
        if (failed) {
            goto error;
        }
        vertex->px = vertex->x; /* the initial points are not perturbed */
        vertex->py = vertex->y;
        self->nvertices++;
    }
    for (Py_ssize_t n = 0; n < ntriangles; n++) {
        Py_ssize_t a, b, c;
        if (triangle_vertices(PyList_GET_ITEM(triangles, n), npoints, &a, &b, &c) < 0) {
            goto error;
        }
        if (!(a < b && b < c)) {
            PyErr_SetString(PyExc_ValueError, "Mesh2D triangles must have sorted vertices");
            goto error;
        }
        int32_t t = new_slot(self);
        if (t < 0) {
            goto error;
        }
        Triangle *tr = &self->triangles[t];
        tr->v[0] = (int32_t)a;
        tr->v[1] = (int32_t)b;
        tr->v[2] = (int32_t)c;
        PyObject *circle = PyList_GET_ITEM(circles, n);
        if (!PyTuple_Check(circle) || PyTuple_GET_SIZE(circle) != 5) {
            PyErr_SetString(PyExc_TypeError, "Mesh2D circles are (cx, cy, low, high, sign)");
            goto error;
        }
        tr->cx = PyFloat_AsDouble(PyTuple_GET_ITEM(circle, 0));
        tr->cy = PyFloat_AsDouble(PyTuple_GET_ITEM(circle, 1));
        tr->low = PyFloat_AsDouble(PyTuple_GET_ITEM(circle, 2));
        tr->high = PyFloat_AsDouble(PyTuple_GET_ITEM(circle, 3));
        tr->sign = (int8_t)PyLong_AsLong(PyTuple_GET_ITEM(circle, 4));
        if (PyErr_Occurred()) {
            goto error;
        }
        for (int k = 0; k < 3; k++) {
            tr->nb[k] = -1;
            self->vertices[tr->v[k]].triangle = t;
        }
    }
    /* neighbours: triangles sharing an edge */
    for (int32_t s = 0; s < self->nslots; s++) {
        for (int32_t t = s + 1; t < self->nslots; t++) {
            Triangle *p = &self->triangles[s], *q = &self->triangles[t];
            for (int k = 0; k < 3; k++) {
                int32_t u = p->v[k == 0 ? 1 : 0], v = p->v[k == 2 ? 1 : 2];
                for (int j = 0; j < 3; j++) {
                    int32_t x = q->v[j == 0 ? 1 : 0], y = q->v[j == 2 ? 1 : 2];
                    if (u == x && v == y) {
                        p->nb[k] = t;
                        q->nb[j] = s;
                    }
                }
            }
        }
    }
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static void Mesh2D_dealloc(Mesh2D *self)
{
    PyMem_Free(self->vertices);
    PyMem_Free(self->triangles);
    PyMem_Free(self->heap);
    PyMem_Free(self->edges);
    IntList *lists[] = {&self->free_slots, &self->dirty_planes, &self->dirty_vertices,
                        &self->changed, &self->cavity, &self->stack, &self->extra};
    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
        PyMem_Free(lists[k]->items);
    }
    Py_XDECREF(self->index);
    Py_XDECREF(self->orient2);
    Py_XDECREF(self->in_circle);
    Py_XDECREF(self->fsum);
    Py_XDECREF(self->sum);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* insert(key, point, value, hint=None) -> vertex index */
static PyObject *Mesh2D_insert(Mesh2D *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 3 || nargs > 4) {
        PyErr_Format(PyExc_TypeError, "insert() takes 3 or 4 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *key = args[0], *point = args[1];
    double x, y, px, py, value;
    int state;
    int32_t hint = -1;
    if (parse_point(point, &x, &y) < 0 || parse_value(args[2], &state, &value) < 0) {
        return NULL;
    }
    if (nargs == 4 && args[3] != Py_None) {
        Py_ssize_t number = PyLong_AsSsize_t(args[3]);
        if (number == -1 && PyErr_Occurred()) {
            return NULL;
        }
        hint = alive(self, number) ? (int32_t)number : -1;
    }
    if (perturb(point, x, y, &px, &py) < 0) {
        return NULL;
    }
    int found = PyDict_Contains(self->index, key);
    if (found != 0) {
        if (found > 0) {
            PyErr_Format(PyExc_ValueError, "the point %R is already in the mesh", key);
        }
        return NULL;
    }
    Py_ssize_t index = insert_vertex(self, x, y, px, py, state, value, hint);
    if (index < 0) {
        return NULL;
    }
    PyObject *number = PyLong_FromSsize_t(index);
    if (number == NULL || PyDict_SetItem(self->index, key, number) < 0) {
        Py_XDECREF(number);
        return NULL;
    }
    return number;
}

/* set_value(i, value): a vertex's value became known (or changed) */
static PyObject *Mesh2D_set_value(Mesh2D *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "set_value() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(args[0]);
    if (i == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (i < 0 || i >= self->nvertices) {
        PyErr_Format(PyExc_IndexError, "vertex %zd is not in the mesh", i);
        return NULL;
    }
    int state;
    double value;
    if (parse_value(args[1], &state, &value) < 0) {
        return NULL;
    }
    self->vertices[i].value = value;
    self->vertices[i].state = (int8_t)state;
    if (self->all_dirty) {
        Py_RETURN_NONE;
    }
    if (star(self, (int32_t)i, &self->extra) < 0) {
        return NULL;
    }
    for (Py_ssize_t n = 0; n < self->extra.size; n++) {
        int32_t t = self->extra.items[n];
        if (mark_plane(self, t) < 0) {
            return NULL;
        }
        for (int k = 0; k < 3; k++) {
            if (mark_vertex(self, self->triangles[t].v[k]) < 0) {
                return NULL;
            }
        }
    }
    Py_RETURN_NONE;
}

/* locate(point) -> a triangle containing the (perturbed) point, or None */
static PyObject *Mesh2D_locate(Mesh2D *self, PyObject *point)
{
    double x, y, px, py;
    if (parse_point(point, &x, &y) < 0 || perturb(point, x, y, &px, &py) < 0) {
        return NULL;
    }
    int32_t t = locate(self, px, py, -1);
    if (t == -2) {
        return NULL;
    }
    if (t < 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(t);
}

static double parse_scale(PyObject *arg)
{
    double y_scale = PyFloat_AsDouble(arg);
    if (y_scale == -1.0 && PyErr_Occurred()) {
        return -1.0;
    }
    return y_scale;
}

/* the split point of t: its circumcenter when well inside, else the midpoint of its longest
 * edge (learner2D._split_point) */
static void split_point(const Mesh2D *self, const Triangle *tr, double *x, double *y)
{
    const Vertex *a = &self->vertices[tr->v[0]], *b = &self->vertices[tr->v[1]];
    const Vertex *c = &self->vertices[tr->v[2]];
    double bx = b->x - a->x, by = b->y - a->y;
    double cx = c->x - a->x, cy = c->y - a->y;
    double det = bx * cy - by * cx;
    double b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
    if (det != 0.0) {
        double ux = (cy * b2 - by * c2) / (2.0 * det);
        double uy = (bx * c2 - cx * b2) / (2.0 * det);
        double lb = (ux * cy - uy * cx) / det;
        double lc = (bx * uy - by * ux) / det;
        if (lb >= CIRCUMCENTER_MARGIN && lc >= CIRCUMCENTER_MARGIN
            && 1.0 - lb - lc >= CIRCUMCENTER_MARGIN) {
            *x = a->x + ux;
            *y = a->y + uy;
            return;
        }
    }
    double a2 = pow(c->x - b->x, 2.0) + pow(c->y - b->y, 2.0);
    const Vertex *p, *q;
    if (a2 >= b2 && a2 >= c2) {
        p = b;
        q = c;
    }
    else if (b2 >= c2) {
        p = a;
        q = b;
    }
    else {
        p = a;
        q = c;
    }
    *x = (p->x + q->x) * 0.5;
    *y = (p->y + q->y) * 0.5;
}

/* next_split(y_scale) -> (triangle, loss, split point) of the largest loss, or None */
static PyObject *Mesh2D_next_split(Mesh2D *self, PyObject *arg)
{
    double y_scale = parse_scale(arg);
    if ((y_scale == -1.0 && PyErr_Occurred()) || flush(self, y_scale) < 0) {
        return NULL;
    }
    if (self->heap_size == 0) {
        Py_RETURN_NONE;
    }
    int32_t t = self->heap[0].t;
    const Triangle *tr = &self->triangles[t];
    double x, y;
    split_point(self, tr, &x, &y);
    return Py_BuildValue("(id(dd))", t, tr->key[tr->nkey - 1], x, y);
}

/* max_loss(y_scale) -> the largest loss (0.0 when no triangle has one) */
static PyObject *Mesh2D_max_loss(Mesh2D *self, PyObject *arg)
{
    double y_scale = parse_scale(arg);
    if ((y_scale == -1.0 && PyErr_Occurred()) || flush(self, y_scale) < 0) {
        return NULL;
    }
    if (self->heap_size == 0) {
        return PyFloat_FromDouble(0.0);
    }
    const Triangle *tr = &self->triangles[self->heap[0].t];
    return PyFloat_FromDouble(tr->key[tr->nkey - 1]);
}

/* interpolate(t, point) -> the linear interpolation in t, or None when a value is unknown */
static PyObject *Mesh2D_interpolate(Mesh2D *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "interpolate() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    int32_t t;
    double x, y;
    if (parse_triangle(self, args[0], &t, 0) < 0 || parse_point(args[1], &x, &y) < 0) {
        return NULL;
    }
    const Triangle *tr = &self->triangles[t];
    const Vertex *a = &self->vertices[tr->v[0]], *b = &self->vertices[tr->v[1]];
    const Vertex *c = &self->vertices[tr->v[2]];
    if (a->state == UNKNOWN || b->state == UNKNOWN || c->state == UNKNOWN) {
        Py_RETURN_NONE;
    }
    double d1x = b->x - a->x, d1y = b->y - a->y;
    double d2x = c->x - a->x, d2y = c->y - a->y;
    double det = d1x * d2y - d1y * d2x;
    if (det == 0.0) { /* flat in the unperturbed points */
        return PyFloat_FromDouble((a->value + b->value + c->value) / 3.0);
    }
    double px = x - a->x, py = y - a->y;
    double lb = (px * d2y - py * d2x) / det;
    double lc = (d1x * py - d1y * px) / det;
    return PyFloat_FromDouble(a->value + lb * (b->value - a->value)
                              + lc * (c->value - a->value));
}

static PyObject *Mesh2D_mark_unsplittable(Mesh2D *self, PyObject *arg)
{
    int32_t t;
    if (parse_triangle(self, arg, &t, 0) < 0) {
        return NULL;
    }
    self->triangles[t].unsplittable = 1;
    heap_remove(self, t);
    Py_RETURN_NONE;
}

/* triangle_points() -> [(a, b, c), ...]: the scaled corners of every triangle */
static PyObject *Mesh2D_triangle_points(Mesh2D *self, PyObject *unused)
{
    (void)unused;
    PyObject *result = PyList_New(0);
    for (int32_t t = 0; result != NULL && t < self->nslots; t++) {
        const Triangle *tr = &self->triangles[t];
        if (tr->v[0] < 0) {
            continue;
        }
        PyObject *corners = PyTuple_New(3);
        int failed = corners == NULL;
        for (int k = 0; k < 3 && !failed; k++) {
            const Vertex *vertex = &self->vertices[tr->v[k]];
            PyObject *point = pair(vertex->x, vertex->y);
            failed = point == NULL;
            if (!failed) {
                PyTuple_SET_ITEM(corners, k, point);
            }
        }
        if (failed || PyList_Append(result, corners) < 0) {
            Py_XDECREF(corners);
            Py_CLEAR(result);
            break;
        }
        Py_DECREF(corners);
    }
    return result;
}

static PyObject *entry_tuple(const Triangle *tr)
{
    PyObject *t = triangle_tuple(tr);
    if (t == NULL) {
        return NULL;
    }
    PyObject *entry = number_tuple(tr->nkey, tr->key, t);
    Py_DECREF(t);
    return entry;
}

/* state(y_scale) -> dict, for the tests: everything _Mesh.state() reports, in its form */
static PyObject *Mesh2D_state(Mesh2D *self, PyObject *arg)
{
    double y_scale = parse_scale(arg);
    if ((y_scale == -1.0 && PyErr_Occurred()) || flush(self, y_scale) < 0) {
        return NULL;
    }
    PyObject *triangles = PyList_New(0), *planes = PyList_New(0), *entries = PyList_New(0);
    PyObject *neighbours = PyList_New(0), *points = PyList_New(0), *vertices = PyList_New(0);
    PyObject *gradients = PyList_New(0), *values = PyList_New(0), *top = NULL, *result = NULL;
    if (!triangles || !planes || !entries || !neighbours || !points || !vertices || !gradients
        || !values) {
        goto done;
    }
    for (int32_t t = 0; t < self->nslots; t++) {
        const Triangle *tr = &self->triangles[t];
        if (tr->v[0] < 0) {
            continue;
        }
        PyObject *plane = tr->has_plane ? Py_BuildValue("(ddd)", tr->wx, tr->wy, tr->area)
                                        : Py_NewRef(Py_None);
        PyObject *around[3];
        for (int k = 0; k < 3; k++) {
            around[k] = tr->nb[k] < 0 ? Py_NewRef(Py_None)
                                      : triangle_tuple(&self->triangles[tr->nb[k]]);
        }
        PyObject *item = Py_BuildValue("((iii)(ddddi))", tr->v[0], tr->v[1], tr->v[2], tr->cx,
                                       tr->cy, tr->low, tr->high, (int)tr->sign);
        PyObject *plane_item = plane ? Py_BuildValue("((iii)O)", tr->v[0], tr->v[1], tr->v[2],
                                                     plane)
                                     : NULL;
        PyObject *neighbour_item = Py_BuildValue("((iii)(OOO))", tr->v[0], tr->v[1], tr->v[2],
                                                 around[0], around[1], around[2]);
        int failed = item == NULL || plane_item == NULL || neighbour_item == NULL
                     || PyList_Append(triangles, item) < 0
                     || PyList_Append(planes, plane_item) < 0
                     || PyList_Append(neighbours, neighbour_item) < 0;
        if (!failed && tr->heap >= 0) {
            PyObject *entry = entry_tuple(tr);
            PyObject *entry_item = entry ? Py_BuildValue("((iii)O)", tr->v[0], tr->v[1],
                                                         tr->v[2], entry)
                                         : NULL;
            failed = entry_item == NULL || PyList_Append(entries, entry_item) < 0;
            Py_XDECREF(entry);
            Py_XDECREF(entry_item);
        }
        Py_XDECREF(plane);
        for (int k = 0; k < 3; k++) {
            Py_XDECREF(around[k]);
        }
        Py_XDECREF(item);
        Py_XDECREF(plane_item);
        Py_XDECREF(neighbour_item);
        if (failed) {
            goto done;
        }
    }
    for (int32_t v = 0; v < self->nvertices; v++) {
        const Vertex *vertex = &self->vertices[v];
        PyObject *point = pair(vertex->x, vertex->y), *moved = pair(vertex->px, vertex->py);
        PyObject *gradient = vertex->has_gradient ? pair(vertex->gx, vertex->gy)
                                                  : Py_NewRef(Py_None);
        PyObject *value = vertex->state == UNKNOWN ? Py_NewRef(Py_None)
                                                   : PyFloat_FromDouble(vertex->value);
        int failed = !point || !moved || !gradient || !value || PyList_Append(points, point) < 0
                     || PyList_Append(vertices, moved) < 0
                     || PyList_Append(gradients, gradient) < 0
                     || PyList_Append(values, value) < 0;
        Py_XDECREF(point);
        Py_XDECREF(moved);
        Py_XDECREF(gradient);
        Py_XDECREF(value);
        if (failed) {
            goto done;
        }
    }
    if (PyList_Sort(triangles) < 0 || PyList_Sort(planes) < 0 || PyList_Sort(neighbours) < 0
        || PyList_Sort(entries) < 0) {
        goto done;
    }
    top = self->heap_size ? entry_tuple(&self->triangles[self->heap[0].t]) : Py_NewRef(Py_None);
    if (top == NULL) {
        goto done;
    }
    result = Py_BuildValue("{sOsOsOsOsOsOsOsOsO}", "triangles", triangles, "vertices", vertices,
                           "points", points, "values", values, "planes", planes, "gradients",
                           gradients, "entries", entries, "top", top, "neighbours",
                           neighbours);
done:
    Py_XDECREF(triangles);
    Py_XDECREF(planes);
    Py_XDECREF(entries);
    Py_XDECREF(neighbours);
    Py_XDECREF(points);
    Py_XDECREF(vertices);
    Py_XDECREF(gradients);
    Py_XDECREF(values);
    Py_XDECREF(top);
    return result;
}

static PyObject *Mesh2D_get_nonfinite(Mesh2D *self, void *closure)
{
    (void)closure;
    PyObject *result = PySet_New(NULL);
    for (Py_ssize_t v = 0; result != NULL && v < self->nvertices; v++) {
        if (self->vertices[v].state == NONFINITE) {
            PyObject *number = PyLong_FromSsize_t(v);
            if (number == NULL || PySet_Add(result, number) < 0) {
                Py_CLEAR(result);
            }
            Py_XDECREF(number);
        }
    }
    return result;
}

static PyObject *Mesh2D_get_npoints(Mesh2D *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->nvertices);
}

static PyObject *Mesh2D_get_all_dirty(Mesh2D *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->all_dirty);
}

static int Mesh2D_set_all_dirty(Mesh2D *self, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "all_dirty cannot be deleted");
        return -1;
    }
    int truth = PyObject_IsTrue(value);
    if (truth < 0) {
        return -1;
    }
    self->all_dirty = (char)truth;
    return 0;
}

static PyMethodDef Mesh2D_methods[] = {
    {"insert", (PyCFunction)(void (*)(void))Mesh2D_insert, METH_FASTCALL,
     "insert(key, point, value, hint=None) -> vertex: add a vertex (ValueError when the "
     "triangulation cannot take it)."},
    {"set_value", (PyCFunction)(void (*)(void))Mesh2D_set_value, METH_FASTCALL,
     "set_value(vertex, value): the value of a vertex (a float, or None while unknown)."},
    {"locate", (PyCFunction)Mesh2D_locate, METH_O,
     "locate(point) -> a triangle containing the point, or None."},
    {"next_split", (PyCFunction)Mesh2D_next_split, METH_O,
     "next_split(y_scale) -> (triangle, loss, point) of the largest loss, or None."},
    {"max_loss", (PyCFunction)Mesh2D_max_loss, METH_O,
     "max_loss(y_scale) -> the largest triangle loss."},
    {"interpolate", (PyCFunction)(void (*)(void))Mesh2D_interpolate, METH_FASTCALL,
     "interpolate(triangle, point) -> the linear interpolation in the triangle, or None."},
    {"mark_unsplittable", (PyCFunction)Mesh2D_mark_unsplittable, METH_O,
     "mark_unsplittable(triangle): take the triangle out of the loss queue."},
    {"triangle_points", (PyCFunction)Mesh2D_triangle_points, METH_NOARGS,
     "triangle_points() -> the corners (scaled points) of every triangle."},
    {"state", (PyCFunction)Mesh2D_state, METH_O,
     "state(y_scale) -> everything the mesh holds, as a dict (for the tests)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Mesh2D_members[] = {
    {"index", T_OBJECT_EX, offsetof(Mesh2D, index), READONLY,
     "{key: vertex} of the points in the mesh"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Mesh2D_getset[] = {
    {"nonfinite", (getter)Mesh2D_get_nonfinite, NULL, "the vertices with a non-finite value",
     NULL},
    {"npoints", (getter)Mesh2D_get_npoints, NULL, "the number of vertices", NULL},
    {"all_dirty", (getter)Mesh2D_get_all_dirty, (setter)Mesh2D_set_all_dirty,
     "whether every loss is recomputed at the next flush (set when the value scale changes)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject Mesh2DType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "adaptive_runner.learners._speedups.Mesh2D",
    .tp_basicsize = sizeof(Mesh2D),
    .tp_dealloc = (destructor)Mesh2D_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The Learner2D's mesh (triangulation, planes, gradients, losses) in C arrays.",
    .tp_methods = Mesh2D_methods,
    .tp_members = Mesh2D_members,
    .tp_getset = Mesh2D_getset,
    .tp_new = Mesh2D_new,
};
