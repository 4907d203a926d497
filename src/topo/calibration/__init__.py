"""Stage 7, calibration: personas fitted to a brand's own event history.

Takes an event log (as ``topo replay`` reads it) and a journey; hands on a personas file that
``topo simulate`` reads, with the fits behind it: BG/NBD for repeat events, Gamma-Gamma for
spend, and the shares and delays of the rest. Entry point: :func:`calibrate` (``calibrate``).
"""
