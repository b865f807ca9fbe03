"""End-to-end runs built from the rooms of the pipeline (data, features, training,
inference): `recipes.demo` is `wavfusion demo`."""
