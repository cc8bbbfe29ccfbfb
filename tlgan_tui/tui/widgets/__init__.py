"""The editor's widgets: axis bars, the face preview, the status line."""
