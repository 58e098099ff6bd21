"""The hot-fix channel between a production image and the development world (issue 16).

protocol.py: the signed frames both sides speak; prod.py: the production runner and
its channel client; apply.py: applying a hot-fix in one transaction; hotlog.py: the
production image's minimal hot-fix log; inspect_view.py: the read-only inspect grant.
"""
