"""The printed forms (附件1–5): read service, templates, PDF rendering, REST."""
