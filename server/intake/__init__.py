"""Taking a stored submission into the registry ("take in"): one module per form behind one
dispatcher.

- ``dispatch.take_in_many`` (``take_in`` for one) — the one verb: stored submissions into the
  registry, or held, invalid, failed; used by the request (inline: a batch of one), the worker,
  the CLI and the reviewers' actions;
- ``batch`` — a batch's household surveys decided together against one read of the registry,
  the everyday ones written set-based (``server.households.bulk``);
- ``survey`` (the household form), ``measures``, ``elimination``, ``declaration`` — one per form;
- ``common`` — the end state of a submission, corrections, figures, the picked household;
- ``worker`` — when: inline in the submission's request, or by ``fangpin worker`` (``TAKE_IN``).

The registry's own writes are ``server.households.services`` (and ``server.dedup.services`` for
holding and resolving conflicts).
"""

from server.intake.dispatch import take_in

__all__ = ["take_in"]
