"""AI Developer Workflow base modules shared by tac-bootstrap and the projects it generates."""
