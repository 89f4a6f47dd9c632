"""Case administration services: each function is one use case over a database session.

Services only flush; the caller's unit of work (``redress.store.db.unit_of_work``) commits or rolls back, so
a failure anywhere changes nothing.  Every state change writes an audit event in the same transaction.
"""
