"""Training, evaluation and cross-validation with Lightning (issue: cache, train, evaluate)."""
