"""Experiments built on the public API, as a user would write them: the studies ganforge grew from
(``ganforge study NAME``) and augmentation of an imbalanced classifier (tables and images)."""
