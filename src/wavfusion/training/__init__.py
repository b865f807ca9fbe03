"""Training, evaluation and cross-validation with Lightning: the feature cache, train, evaluate."""
