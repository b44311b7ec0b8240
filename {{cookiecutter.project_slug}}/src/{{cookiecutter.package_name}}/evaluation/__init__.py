"""Simple, observable metrics (P3), computed with scikit-learn rather than by hand."""
