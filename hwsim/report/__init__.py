"""Reports: terminal tables (text), and later Markdown/HTML with figures."""
