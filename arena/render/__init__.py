"""Pure renderers: result records to text, JSON, HTML and C. They return strings; callers write them."""
