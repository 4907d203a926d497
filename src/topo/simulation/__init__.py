"""Stage 6, simulation: a whole population rehearses a journey before launch.

Takes a journey and a personas file (who the members are and what they do); hands on the
events they send, the triggers and states the real engine makes of them, and a summary.
Entry points: :func:`simulate` (``runner``), the personas file in ``model`` and ``personas``.
"""
