/* Shared declarations of the ``_speedups`` extension (see module.c for what it is). */
#ifndef ADAPTIVE_RUNNER_SPEEDUPS_H
#define ADAPTIVE_RUNNER_SPEEDUPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* A vertex of a triangle: its point (borrowed), coordinates and vertex index. */
typedef struct {
    PyObject *point;
    double x, y;
    Py_ssize_t index;
} Corner;

#define QUEUE_KEYS 5

typedef struct {
    double key[QUEUE_KEYS];
    int nkey;                /* 4 or 5 */
    Py_ssize_t vertex[3];    /* the triangle's indices, the last tie-breaker */
    PyObject *triangle;      /* owned; NULL for a free slot */
    Py_ssize_t position;     /* in the heap */
} QueueSlot;

typedef struct {
    PyObject_HEAD
    QueueSlot *slots;
    Py_ssize_t nslots, slot_capacity;
    Py_ssize_t *heap; /* slot numbers */
    Py_ssize_t size, heap_capacity;
    Py_ssize_t *free;
    Py_ssize_t nfree, free_capacity;
    PyObject *index; /* dict: triangle -> slot number */
} LossQueue;


extern PyTypeObject LossQueueType;
extern PyTypeObject Mesh2DType; /* mesh2d.c */

/* A facet on the boundary of an insertion's cavity (cavity.c). */
typedef struct {
    PyObject *facet;    /* its vertex indices, owned */
    PyObject *opposite; /* the cavity simplex's vertex across it, borrowed from the simplex */
    int inside;         /* 3D: the orientation the new vertex must have, seen from the cavity */
    int sign;           /* the orientation found by the caller; 0: no simplex on this facet */
} BoundaryFacet;

typedef struct {
    BoundaryFacet *items;
    Py_ssize_t size, capacity;
} BoundaryList;

/* common.c: reading points and triangles, exact sums, tuples of numbers; triangulation.c:
 * the triangulation's structures */
int point_xy(PyObject *point, double *x, double *y);
int sorted_corners(PyObject *points, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Corner corners[3]);
int exact_sum(const double *values, Py_ssize_t n, double *result);
PyObject *number_tuple(Py_ssize_t n, const double *values, PyObject *last);
PyObject *untracked(PyObject *tuple);
int triangle_vertices(PyObject *t, Py_ssize_t size, Py_ssize_t *a, Py_ssize_t *b, Py_ssize_t *c);
int add_all(PyObject *target, PyObject *items);
int is_nonfinite(PyObject *nonfinite, Py_ssize_t i);
int grow_array(void **array, Py_ssize_t *capacity, Py_ssize_t needed, size_t item);
PyObject *corner_points(PyObject *vertices, PyObject *indices, PyObject *extra);
int vertex_coordinates(PyObject *vertices, PyObject *index, int dim, double *out);
int list_remove(PyObject *list, PyObject *item);
int set_remove(PyObject *set, PyObject *item);
PyObject *star_of(PyObject *vertex_to_simplices, PyObject *index);
PyObject *facet_without(PyObject *simplex, Py_ssize_t k);
int remove_cavity(PyObject *cavity, PyObject *simplices, PyObject *spheres, PyObject *facets,
                  PyObject *vertex_to_simplices);
int link_simplex(PyObject *simplex, PyObject *simplices, PyObject *added,
                 PyObject *vertex_to_simplices, PyObject *facets);
PyObject *new_simplex(PyObject *facet, PyObject *index, PyObject *vertices, PyObject *orient,
                      long *sign);
int on_hull_facet(PyObject *facets, PyObject *facet, PyObject *vertices, PyObject *point,
                  PyObject *orient);
int store_sphere(PyObject *spheres, PyObject *simplex, const double *numbers, Py_ssize_t n,
                 long sign);

/* The arguments of insert_2d and insert_3d (triangulation.c parses them). */
typedef struct {
    PyObject *index, *start, *vertices, *spheres, *facets, *simplices, *vertex_to_simplices;
    PyObject *in_circumsphere, *orient;
    PyObject *point; /* vertices[index], borrowed */
} InsertArguments;

int parse_insert_arguments(const char *name, PyObject *const *args, Py_ssize_t nargs, int dim,
                           InsertArguments *out, double *p);

/* cavity.c: the cavity of a new vertex (a new set; its boundary facets into ``boundary``) */
PyObject *grow_cavity(PyObject *start, const double *p, int dim, PyObject *point,
                      PyObject *vertices, PyObject *spheres, PyObject *facets,
                      PyObject *predicate, BoundaryList *boundary);
void free_boundary(BoundaryList *boundary);

/* loss_queue.c */
int queue_set(LossQueue *self, PyObject *triangle, const double *key, int nkey);
int queue_set_entry(LossQueue *self, PyObject *triangle, PyObject *entry);
int queue_discard(LossQueue *self, PyObject *triangle);

/* the module's functions (common.c, insert2d.c, insert3d.c) */
PyObject *exact_sum_py(PyObject *module, PyObject *list);
PyObject *insert_2d(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *insert_3d(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
