"""The local store: one SQLite file per workstation.

Import the submodules directly; this package stays empty so that importing the
light reader never drags in SQLAlchemy.
"""
