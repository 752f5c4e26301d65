"""gradcheck inside pytest: the plugin (``plugin``, entry point ``pytest11 gradcheck``),
the ``gradcheck`` fixture (``fixture``) and a session's checks as data (``session``)."""
