"""Everything that talks to MLflow: where runs go (``store``), what a run records (``runs``),
which model is champion (``registry``) and what a person sees at the end (``summary``)."""
