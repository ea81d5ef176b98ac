"""The browser face: a Gradio chat over an Archive (``pressqa serve``)."""
