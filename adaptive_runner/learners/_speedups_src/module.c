/* Optional C versions of the hot paths of the Learner2D and the LearnerND: inserting a point
 * into a 2D or 3D triangulation (``Triangulation._insert_2d`` and ``_insert_3d``), the
 * Learner2D's whole mesh (``Mesh2D``, the C twin of ``learner2D._Mesh``) and the loss queue
 * (``loss_queue.LossQueue``).
 *
 * ``triangulation.py``, ``learner2D.py`` and ``loss_queue.py`` hold the same computations in
 * Python and use them when this module was not built (no C compiler at install time) or when
 * the environment variable ADAPTIVE_RUNNER_PURE_PYTHON is set. The insertions work on the
 * triangulation's own Python objects; Mesh2D keeps its state in C arrays. Both versions do the
 * same floating-point operations in the same order, so they give bitwise the same results
 * (tests/learners/test_speedups.py checks that). The build flags keep it so: no fused
 * multiply-add (-ffp-contract=off), no fast-math. Whatever is rare (an orientation or
 * in-circle test too close to call in floating point, a sum math.fsum must decide) calls back
 * into the Python code, so it has one implementation only.
 *
 * Sources: common.c (shared helpers), triangulation.c and cavity.c (the triangulation's
 * structures and the cavity search), insert2d.c and insert3d.c (the insertions), mesh2d.c
 * (the Learner2D's mesh), loss_queue.c (the LossQueue type), this file (the module).
 */
#include "speedups.h"

static PyMethodDef methods[] = {
    {"exact_sum", (PyCFunction)exact_sum_py, METH_O,
     "The correctly rounded sum of a list of floats, as math.fsum (None: defers to it)."},
    {"insert_2d", (PyCFunction)(void (*)(void))insert_2d, METH_FASTCALL,
     "Bowyer-Watson insertion of a vertex into a 2D triangulation; None when a predicate is "
     "not certain in floating point (the caller then takes its general path)."},
    {"insert_3d", (PyCFunction)(void (*)(void))insert_3d, METH_FASTCALL,
     "Bowyer-Watson insertion of a vertex into a 3D triangulation; None when a predicate is "
     "not certain in floating point (the caller then takes its general path)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "C versions of the Learner2D's hot paths (optional; the Python modules compute the same).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    if (PyType_Ready(&LossQueueType) < 0 || PyType_Ready(&Mesh2DType) < 0) {
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) {
        return NULL;
    }
    Py_INCREF(&LossQueueType);
    if (PyModule_AddObject(created, "LossQueue", (PyObject *)&LossQueueType) < 0) {
        Py_DECREF(&LossQueueType);
        Py_DECREF(created);
        return NULL;
    }
    Py_INCREF(&Mesh2DType);
    if (PyModule_AddObject(created, "Mesh2D", (PyObject *)&Mesh2DType) < 0) {
        Py_DECREF(&Mesh2DType);
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
