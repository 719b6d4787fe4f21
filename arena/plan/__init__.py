"""From a model to a plan: the pipeline, sizing for a target, the plan file, and embedding a plan."""
