"""Course packages: read and check them (``reader``), store them (``store``), write them
back in canonical form (``writer``), and import whole folders (``batch``)."""
