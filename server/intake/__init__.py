"""Taking a stored submission into the registry ("take in"): one module per form behind one
dispatcher.

- ``dispatch.take_in`` — the one verb: a stored submission into the registry, or held, invalid,
  failed; used by the request (inline), the worker, the CLI and the reviewers' actions;
- ``survey`` (the household form), ``measures``, ``elimination``, ``declaration`` — one per form;
- ``common`` — the end state of a submission, corrections, figures, the picked household;
- ``worker`` — when: inline in the submission's request, or by ``fangpin worker`` (``TAKE_IN``).

The registry's own writes are ``server.households.services`` (and ``server.dedup.services`` for
holding and resolving conflicts).
"""

from server.intake.dispatch import take_in

__all__ = ["take_in"]
