"""Report folder: metrics, markdown, figures."""
