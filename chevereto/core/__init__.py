"""The site-wide core, the bottom layer: site settings, id encoding, client address, and the
error shape every API answers with. It imports no other app of the project."""
