"""Dataset preparation used by ``tools/`` (converters, whole-volume tools).

Not imported by ``mmplugin_transfuse/__init__.py``: nothing here is a
registered component, and a config's ``custom_imports`` never loads it.
:mod:`.conversion` needs only OpenCV/NumPy; :mod:`.msd` reads NIfTI volumes
and needs the optional extra ``pip install 'mmplugin_transfuse[medical]'``
(nibabel), with an ``ImportError`` naming that extra when it is missing.
"""
