"""The pure domain: no I/O, no UI toolkit, no database.

Everything here can be used by the workstation, the plain front end and the
backend alike, and is tested without any of them.
"""
