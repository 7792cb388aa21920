"""Forms of the sessions app: clients (case records) and the note (header, stages, addenda)."""
