"""Feature monitoring (P4): a reference profile at training time, drift checks on new batches."""
