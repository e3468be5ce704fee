"""gdlab's engine: pure computation (graph, expressions, rules, optimizers, data, runner).

It never imports textual or plotext; the views in `tui` depend on it, not the other way.
"""
