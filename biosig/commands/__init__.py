"""Commands of the ``biosig`` CLI, one module each; registered in :mod:`biosig.cli`."""
