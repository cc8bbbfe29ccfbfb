"""The editor: a Textual app over the engine. No model maths here; the engine does the work."""
